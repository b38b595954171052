import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { runEddy } from "../helpers/eddy-process.js";
import { testKafka } from "../helpers/kafka.js";
import { ensureTopic, eventually, functionStatus, killWorker, LiveReader, produceMessages, startEddy, stopEddy, unique, waitReady } from "../dispatcher/support.js";

const KEYS = 12;
const PER_PHASE = 10;

/** A counter per key: each record's output says how many records of its key came before it (its state). */
function counter(name: string, topic: string, out: string, delivery = "exactly-once"): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  ordering: "key",
  delivery: ${JSON.stringify(delivery)},
  startFrom: "earliest",
  state: {},
  async handle(event, ctx) {
    const count = ((await ctx.state.get()) ?? 0) + 1;
    ctx.state.set(count);
    await ctx.emit(${JSON.stringify(out)}, { key: event.key, count }, { key: event.key });
  },
});`;
}

async function topicExists(topic: string): Promise<boolean> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

const phase = (n: number) => Array.from({ length: KEYS * PER_PHASE }, (_, i) => ({ key: `user-${i % KEYS}`, value: `${n}:${i}` }));

/** The outputs per key, in the order each key's outputs were read (its partition's order). */
function countsByKey(reader: LiveReader): Map<string, number[]> {
  const byKey = new Map<string, number[]>();
  for (const { key, count } of reader.json<{ key: string; count: number }>()) {
    const list = byKey.get(key) ?? [];
    list.push(count);
    byKey.set(key, list);
  }
  return byKey;
}

describe("ctx.state on the real broker", () => {
  const prefix = unique("state");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });

  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("keeps each key's state through a kill -9 of the worker and scaling 1 → 3 → 1, exactly once, and serves it from the state route", async () => {
    const [name, topic] = [unique("counter"), unique("counter-in")];
    const out = `${name}-out`;
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out, 3);
    const deployWith = async (replicas: number) => {
      const answer = await eddy.api("POST", "/v1/functions", { source: counter(name, topic, out), config: { scaling: { minReplicas: replicas, maxReplicas: replicas } } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    };
    const expectOutputs = async (count: number) => {
      expect(await eventually(async () => reader.count >= count, 90_000, 200), `${count} outputs (have ${reader.count})`).toBe(true);
    };

    await deployWith(1);
    await waitReady(eddy, name);
    // The changelog: compacted, one partition per source partition.
    await produceMessages(topic, phase(1));
    await expectOutputs(KEYS * PER_PHASE);

    // kill -9: the restarted worker restores every partition's state before its first invocation.
    await killWorker(eddy);
    await produceMessages(topic, phase(2));
    await expectOutputs(2 * KEYS * PER_PHASE);

    // Three replicas: each restores the partitions it is given.
    await deployWith(3);
    expect(await eventually(async () => (await functionStatus(eddy, name)).replicas?.ready === 3, 60_000)).toBe(true);
    await produceMessages(topic, phase(3));
    await expectOutputs(3 * KEYS * PER_PHASE);

    // Back to one: it takes over every partition, and their state.
    await deployWith(1);
    expect(await eventually(async () => (await functionStatus(eddy, name)).replicas?.ready === 1, 60_000)).toBe(true);
    await produceMessages(topic, phase(4));
    await expectOutputs(4 * KEYS * PER_PHASE);

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await reader.stop();
    // Every key counted 1, 2, … 40 exactly once, in order: no state lost, none applied twice.
    const expected = Array.from({ length: 4 * PER_PHASE }, (_, i) => i + 1);
    const byKey = countsByKey(reader);
    expect(byKey.size).toBe(KEYS);
    for (const [key, counts] of byKey) expect({ key, counts }).toEqual({ key, counts: expected });

    // Read from outside: the route and the CLI answer the current count.
    const answer = await eddy.api("GET", `/v1/functions/${name}/state/user-3`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ name, key: "user-3", value: 4 * PER_PHASE, fresh: true });
    const cli = await runEddy(["state", "get", name, "user-3", "--json"], eddy.env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ key: "user-3", value: 4 * PER_PHASE });
    const missing = await eddy.api("GET", `/v1/functions/${name}/state/nobody`);
    expect(missing.status).toBe(404);
    // A redrive would run dead letters without the state: refused, with what to do instead.
    const redrive = await eddy.api("POST", `/v1/functions/${name}/redrive`);
    expect(redrive.status).toBe(409);
    expect(redrive.body.error.message).toContain("produce them to its topic again");

    // Removed with its group, its state goes too: the same name deployed again starts from nothing.
    expect((await eddy.api("DELETE", `/v1/functions/${name}?deleteGroup=true`)).status).toBe(204);
    expect(await eventually(async () => !(await topicExists(`${name}.state`)), 30_000)).toBe(true);
  }, 300_000);

  it("with at-least-once, writes state before the offset and restores it after a redeploy", async () => {
    const [name, topic] = [unique("alo-counter"), unique("alo-counter-in")];
    const out = `${name}-out`;
    await ensureTopic(topic, 2);
    const reader = await LiveReader.start(out, 3);
    const deployVersion = async (marker: string) => {
      const answer = await eddy.api("POST", "/v1/functions", { source: counter(name, topic, out, "at-least-once"), env: { RELEASE: marker }, config: { scaling: { minReplicas: 1, maxReplicas: 1 } } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    };
    await deployVersion("v1");
    await waitReady(eddy, name);
    await produceMessages(topic, phase(1).slice(0, 36));
    expect(await eventually(async () => reader.count >= 36, 60_000, 200)).toBe(true);
    // A new version drains the old worker (its offsets committed after its state writes) and restores in the new one.
    await deployVersion("v2");
    await produceMessages(topic, phase(2).slice(0, 36));
    expect(await eventually(async () => reader.count >= 72, 60_000, 200)).toBe(true);
    await reader.stop();
    for (const [key, counts] of countsByKey(reader)) expect({ key, counts }).toEqual({ key, counts: [1, 2, 3, 4, 5, 6] });
    // The replica's report (every second or so) carries what its store holds.
    expect(await eventually(async () => (await functionStatus(eddy, name)).stateStore?.keys === KEYS, 10_000)).toBe(true);
    expect((await functionStatus(eddy, name)).stateStore).toMatchObject({ keys: KEYS, restoring: 0, topic: `${name}.state` });
  }, 120_000);

  it("refuses state with ordering none, and says so for the state route of a function without state", async () => {
    const [name, topic] = [unique("stateless"), unique("stateless-in")];
    await ensureTopic(topic, 1);
    const refused = await eddy.api("POST", "/v1/functions", {
      source: `import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: ${JSON.stringify(name)}, topics: [${JSON.stringify(topic)}], ordering: "none", state: {}, async handle() {} });`,
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('expected ordering \\"partition\\" or \\"key\\"');

    const deployed = await eddy.api("POST", "/v1/functions", {
      source: `import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: ${JSON.stringify(name)}, topics: [${JSON.stringify(topic)}], async handle() {} });`,
      config: { scaling: { minReplicas: 0 } },
    });
    expect(deployed.status).toBe(201);
    const answer = await eddy.api("GET", `/v1/functions/${name}/state/k`);
    expect(answer.status).toBe(409);
    expect(answer.body.error.message).toContain("keeps no state");
  }, 60_000);
});
