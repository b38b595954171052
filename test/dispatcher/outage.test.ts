import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { consumeAll } from "../helpers/kafka.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, produceMessages, sleep, startEddy, stopEddy, unique } from "./support.js";

const RECORDS = 300;
const OUTAGE_MS = 10_000;

describe("an outage downstream, on the real broker", () => {
  const prefix = unique("outage");
  let eddy: EddyProcess;
  let downstream: Server;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
    downstream?.close();
  });

  it("opens the breaker (seen in status and logs), dead-letters nothing, and processes every record after recovery", async () => {
    const [name, topic, out] = [unique("outage"), unique("outage-in"), unique("outage-out")];
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out);
    // The downstream: a local HTTP server that answers 503 for 10 s, then 200. The handler calls it through ctx.fetch.
    const outageUntil = Date.now() + OUTAGE_MS;
    downstream = createServer((_, res) => {
      res.statusCode = Date.now() < outageUntil ? 503 : 200;
      res.end();
    });
    await new Promise<void>((resolve) => downstream.listen(0, "127.0.0.1", () => resolve()));
    const { port } = downstream.address() as AddressInfo;
    await deploy(
      eddy,
      `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  egress: ["127.0.0.1"],
  retry: { maxAttempts: 3, backoff: { initialMs: 50, maxMs: 400 } },
  circuitBreaker: { consecutiveFailures: 5, openMs: 1000, maxOpenMs: 4000 },
  async handle(event, ctx) {
    const response = await ctx.fetch(ctx.env.DOWNSTREAM);
    if (response.status !== 200) throw new Error("downstream answered " + response.status);
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
      { DOWNSTREAM: `http://127.0.0.1:${port}/` },
    );
    await produceMessages(topic, Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: String(i) })));

    // Every attempt fails: the breaker opens, and status shows it while the outage lasts.
    const states = new Set<string>();
    let sawOpen = false;
    while (Date.now() < outageUntil - 500) {
      const circuit = (await functionStatus(eddy, name)).circuit as string;
      states.add(circuit);
      if (circuit === "open") sawOpen = true;
      await sleep(200);
    }
    expect(sawOpen, `circuit states seen: ${[...states].join(", ")}`).toBe(true);
    expect(eddy.logs).toContain("circuit breaker open");
    expect((await functionStatus(eddy, name)).stats.deadLettered).toBe(0);

    // After recovery a probe succeeds, the breaker closes and every record is processed once.
    await reader.waitFor(RECORDS, 40_000, 1_000);
    expect(new Set(reader.messages.map((m) => m.key!.toString())).size).toBe(RECORDS);
    expect(reader.count).toBe(RECORDS);
    expect(await eventually(async () => (await functionStatus(eddy, name)).circuit === "closed", 10_000)).toBe(true);
    const status = await functionStatus(eddy, name);
    expect(status.stats.deadLettered).toBe(0);
    expect(status.stats.failed).toBeGreaterThan(0);
    // An outage dead-letters nothing: the dead-letter topic stays empty.
    expect(await consumeAll(`${name}.dlt`, 1, { timeoutMs: 1_000, settleMs: 0 })).toHaveLength(0);
    await reader.stop();
  });
});
