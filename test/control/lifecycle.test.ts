import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionStatus, versionList } from "../../runtime/control/api-schemas.js";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, ensureTopic, eventually, produce, testKafka } from "../helpers/kafka.js";
import { echo } from "./sources.js";

const PREFIX = "lc.";

async function groupExists(groupId: string): Promise<boolean> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    return groups.some((g) => g.groupId === groupId);
  } finally {
    await admin.disconnect();
  }
}

async function topicEnd(topic: string): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The values on a topic, sorted (records of different keys sit on different partitions, in no common order). */
const values = async (topic: string, count: number) => (await consumeAll(topic, count, { settleMs: 1_000 })).map((m) => m.value!.toString()).sort();

describe("a function's lifecycle on the real broker", () => {
  let dataDir: string;
  let eddy: EddyProcess;
  const env = () => ({ EDDY_DATA_DIR: dataDir, EDDY_TOPIC_PREFIX: PREFIX });

  beforeAll(async () => {
    dataDir = await tempDir("eddy-lifecycle");
    eddy = await EddyProcess.start(env());
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("deploys, updates, lists versions, survives a restart, rolls back and deletes", async () => {
    const v1 = await eddy.api("POST", "/v1/functions", { source: echo("lc-echo", "lc-in", "lc-out", "v1") });
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ name: "lc-echo", version: 1 });
    await produce("lc-in", [{ key: "a", value: "a" }]);
    expect(await values("lc-out", 1)).toEqual(["v1:a"]);

    const v2 = await eddy.api("POST", "/v1/functions", { source: echo("lc-echo", "lc-in", "lc-out", "v2") });
    expect(v2.status).toBe(201);
    expect(v2.body.version).toBe(2);
    await produce("lc-in", [{ key: "b", value: "b" }]);
    expect(await values("lc-out", 2)).toEqual(["v1:a", "v2:b"].sort());

    const versions = await eddy.api("GET", "/v1/functions/lc-echo/versions");
    expect(versionList.parse(versions.body)).toMatchObject({ current: 2, versions: [{ version: 1, current: false }, { version: 2, current: true }] });

    // Restarted, Eddy rebuilds everything from the registry topic.
    expect(await eddy.stop()).toBe(0);
    eddy = await EddyProcess.start(env());
    const afterRestart = await eddy.api("GET", "/v1/functions/lc-echo/versions");
    expect(afterRestart.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(afterRestart.body.current).toBe(2);

    const rolledBack = await eddy.api("POST", "/v1/functions/lc-echo/rollback", { version: 1 });
    expect(rolledBack.status).toBe(200);
    expect(rolledBack.body).toMatchObject({ name: "lc-echo", version: 1 });
    await produce("lc-in", [{ key: "c", value: "c" }]);
    expect(await values("lc-out", 3)).toEqual(["v1:a", "v2:b", "v1:c"].sort());
    const status = await eddy.api("GET", "/v1/functions/lc-echo");
    expect(functionStatus.parse(status.body)).toMatchObject({ version: 1, state: "running" });

    // A deploy after a rollback gets a new number: versions only grow.
    const v3 = await eddy.api("POST", "/v1/functions", { source: echo("lc-echo", "lc-in", "lc-out", "v2") });
    expect(v3.body.version).toBe(3);

    const deleted = await eddy.api("DELETE", "/v1/functions/lc-echo");
    expect(deleted.status).toBe(204);
    expect((await eddy.api("GET", "/v1/functions/lc-echo")).status).toBe(404);
    expect((await eddy.api("GET", "/v1/functions")).body.functions).toEqual([]);
    expect(await groupExists(`${PREFIX}lc-echo`)).toBe(true);

    expect(await eddy.stop()).toBe(0);
    eddy = await EddyProcess.start(env());
    expect((await eddy.api("GET", "/v1/functions/lc-echo")).status).toBe(404);

    // Deployed again, it keeps its group: nothing is processed twice.
    const again = await eddy.api("POST", "/v1/functions", { source: echo("lc-echo", "lc-in", "lc-out", "v4") });
    expect(again.body.version).toBe(1);
    await produce("lc-in", [{ key: "d", value: "d" }]);
    expect(await values("lc-out", 4)).toEqual(["v1:a", "v2:b", "v1:c", "v4:d"].sort());
    expect((await eddy.api("DELETE", "/v1/functions/lc-echo?deleteGroup=true")).status).toBe(204);
    expect(await groupExists(`${PREFIX}lc-echo`)).toBe(false);
  });

  it("gives concurrent deploys from two clients distinct, increasing versions", async () => {
    const deploys = await Promise.all(
      ["x", "y", "z", "w"].map((tag) => eddy.api("POST", "/v1/functions", { source: echo("lc-race", "lc-race-in", "lc-race-out", tag) })),
    );
    expect(deploys.map((d) => d.status)).toEqual([201, 201, 201, 201]);
    expect(deploys.map((d) => d.body.version).sort()).toEqual([1, 2, 3, 4]);
    const versions = await eddy.api("GET", "/v1/functions/lc-race/versions");
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 3, 4]);
    expect(versions.body.current).toBe(4);
    // The same code from two clients at once: one new version, one "unchanged".
    const same = await Promise.all([1, 2].map(() => eddy.api("POST", "/v1/functions", { source: echo("lc-race", "lc-race-in", "lc-race-out", "same") })));
    expect(same.map((d) => d.status).sort()).toEqual([200, 201]);
    expect(same.map((d) => d.body.version)).toEqual([5, 5]);
  });

  it("invokes a function as a dry run that touches no topic", async () => {
    const source = `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "lc-dry", topics: ["lc-dry-in"],
  async handle(event, ctx) {
    const order = event.json();
    if (!order.email) throw new Error("no email for " + order.id);
    console.log("confirming", order.id);
    await ctx.emit("lc-dry-out", { to: order.email }, { key: event.key, headers: { kind: "email" } });
    await ctx.emit("lc-dry-bin", new Uint8Array([0xff, 0x00, 0xfe]));
  },
});`;
    expect((await eddy.api("POST", "/v1/functions", { source })).status).toBe(201);
    await ensureTopic("lc-dry-out", 1);
    const ok = await eddy.api("POST", "/v1/functions/lc-dry/invoke", { events: [{ key: "o-1", value: { id: "o-1", email: "a@example.com" } }] });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      ok: true,
      emitted: [
        { topic: "lc-dry-out", key: "o-1", value: JSON.stringify({ to: "a@example.com" }), headers: { kind: "email" } },
        { topic: "lc-dry-bin", key: null, value: Buffer.from([0xff, 0x00, 0xfe]).toString("base64"), encoding: "base64" },
      ],
    });
    expect(ok.body.logs.map((l: { message: string }) => l.message)).toEqual(["confirming o-1"]);
    expect(ok.body.durationMs).toBeGreaterThanOrEqual(0);

    const failed = await eddy.api("POST", "/v1/functions/lc-dry/invoke", { events: [{ value: { id: "o-2" } }] });
    expect(failed.body).toMatchObject({ ok: false, error: { message: "no email for o-2" }, emitted: [] });
    expect(await topicEnd("lc-dry-out")).toBe(0);
    expect(await topicEnd("lc-dry-in")).toBe(0);
  });

  it("serves metrics per function and its OpenAPI document", async () => {
    // The function may have scaled to zero while idle: the record brings a replica back. Counters survive that.
    const before = (await eddy.api("GET", "/v1/functions/lc-race")).body.stats.processed as number;
    await produce("lc-race-in", [{ key: "m", value: "m" }]);
    let last: unknown;
    const done = async () => {
      const status = (await eddy.api("GET", "/v1/functions/lc-race")).body;
      last = { state: status.state, replicas: status.replicas, lag: status.lag.total, processed: status.stats.processed, before };
      return status.stats.processed > before && status.lag.total === 0 && status.replicas.ready === 1;
    };
    expect(await eventually(done), `the record was not processed; last status: ${JSON.stringify(last)}`).toBe(true);
    const metrics = await (await fetch(`${eddy.url}/metrics`)).text();
    expect(metrics).toMatch(/eddy_invocations_total\{function="lc-race"\} [1-9]/);
    expect(metrics).toMatch(/eddy_consumer_lag\{function="lc-race"\} 0/);
    expect(metrics).toContain('eddy_replicas{function="lc-race",kind="ready"} 1');
    expect(metrics).toContain('eddy_circuit_state{function="lc-race"} 0');
    const document = await eddy.api("GET", "/v1/openapi.json");
    expect(document.body.openapi).toBe("3.1.0");
    expect(Object.keys(document.body.paths)).toContain("/v1/functions/{name}/redrive");
  });
});
