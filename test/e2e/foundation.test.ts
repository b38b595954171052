import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, runEddy, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, eventually, produce, testKafka } from "../helpers/kafka.js";
import { ONE_REPLICA } from "../dispatcher/support.js";

const ORDERS = 1_000;
const source = await readFile(path.resolve("functions/examples/order-confirmation.ts"), "utf8");

/** Committed offsets of the function's group, summed, against the topic's end. */
async function committedVsEnd(groupId: string, topic: string): Promise<{ committed: bigint; end: bigint }> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = (offsets?.partitions ?? []).reduce((sum, p) => sum + (p.offset === "-1" ? 0n : BigInt(p.offset)), 0n);
    return { committed, end: ends.reduce((sum, e) => sum + BigInt(e.high), 0n) };
  } finally {
    await admin.disconnect();
  }
}

describe("a fresh Eddy on the real broker", () => {
  let dataDir: string;
  let eddy: EddyProcess;
  const env = () => ({ EDDY_DATA_DIR: dataDir, EDDY_TOPIC_PREFIX: "e2e." });

  beforeAll(async () => {
    dataDir = await tempDir("eddy-e2e");
    eddy = await EddyProcess.start(env());
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("refuses /v1 requests without the right token, but serves /healthz", async () => {
    const none = await fetch(`${eddy.url}/v1/functions`);
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe("EDDY_UNAUTHORIZED");
    const wrong = await eddy.api("GET", "/v1/functions", undefined, { authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${eddy.url}/healthz`)).status).toBe(200);
  });

  it("answers a source with a syntax error with 422 naming line and column, and keeps running", async () => {
    const broken = await eddy.api("POST", "/v1/functions", {
      source: 'import { defineFunction } from "eddy/sdk";\nexport default defineFunction({\n  name: "broken", topics: ["x"],\n  handle(event { }\n});\n',
    });
    expect(broken.status).toBe(422);
    expect(broken.body.error.code).toBe("EDDY_BUNDLE_FAILED");
    expect(broken.body.error.message).toMatch(/function\.ts:4:\d+/);
    expect(broken.body.error.details[0].path).toMatch(/^function\.ts:4:\d+$/);
    expect((await fetch(`${eddy.url}/healthz`)).status).toBe(200);
  });

  it("deploys order-confirmation and turns 1,000 orders into 1,000 emails, committing to the end", async () => {
    // One replica whatever the lag: whether the scaler sees the 1,000 orders before they are done is a race (its own tests cover it).
    const deployed = await eddy.api("POST", "/v1/functions", { source, config: ONE_REPLICA });
    expect(deployed.status).toBe(201);
    expect(deployed.body).toMatchObject({ name: "order-confirmation", version: 1, config: { topics: ["orders"], batch: { maxSize: 100 } } });

    const again = await eddy.api("POST", "/v1/functions", { source, config: ONE_REPLICA });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(1);

    // Produced straight after the deploy answered: "latest" starts at the deploy, so none may be skipped.
    await produce(
      "orders",
      Array.from({ length: ORDERS }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify({ id: `o-${i}`, email: `c${i}@example.com` }) })),
    );
    const emails = await consumeAll("emails", ORDERS);
    expect(emails).toHaveLength(ORDERS);
    const byKey = new Map(emails.map((m) => [m.key!.toString(), JSON.parse(m.value!.toString())]));
    expect(byKey.size).toBe(ORDERS);
    for (let i = 0; i < ORDERS; i += 1) expect(byKey.get(`o-${i}`)).toEqual({ to: `c${i}@example.com`, orderId: `o-${i}` });

    expect(
      await eventually(async () => {
        const { committed, end } = await committedVsEnd("e2e.order-confirmation", "orders");
        return committed === end;
      }),
    ).toBe(true);

    const listed = await eddy.api("GET", "/v1/functions");
    expect(listed.body.functions.map((f: { name: string }) => f.name)).toEqual(["order-confirmation"]);
    const status = await eddy.api("GET", "/v1/functions/order-confirmation");
    expect(status.body).toMatchObject({ state: "running", replicas: { desired: 1, ready: 1 }, lag: { total: 0 }, circuit: "closed" });
    expect(status.body.stats.processed).toBeGreaterThanOrEqual(ORDERS);
    expect((await eddy.api("GET", "/v1/functions/nope")).status).toBe(404);
  });

  it("keeps the function across a restart of Eddy and processes no record twice", async () => {
    expect(await eddy.stop()).toBe(0);
    eddy = await EddyProcess.start(env());
    const listed = await eddy.api("GET", "/v1/functions");
    expect(listed.body.functions).toMatchObject([{ name: "order-confirmation", version: 1 }]);

    // The README's way to send an event: the CLI's produce command.
    const produced = await runEddy(["produce", "orders", JSON.stringify({ id: "o-after", email: "late@example.com" }), "--key", "o-after"], eddy.env);
    expect(produced.code).toBe(0);
    const emails = await consumeAll("emails", ORDERS + 1, { settleMs: 3_000 });
    expect(emails).toHaveLength(ORDERS + 1);
    expect(new Set(emails.map((m) => m.key!.toString())).size).toBe(ORDERS + 1);
    expect(JSON.parse(emails.find((m) => m.key!.toString() === "o-after")!.value!.toString())).toEqual({ to: "late@example.com", orderId: "o-after" });
  });
});
