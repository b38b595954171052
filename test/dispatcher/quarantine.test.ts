import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { consumeAll } from "../helpers/kafka.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, produceMessages, startEddy, stopEddy, unique } from "./support.js";

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

describe("crash-loop quarantine on the real broker", () => {
  const prefix = unique("quarantine");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("finds the one record of 100 that kills its worker (V8 out of memory), dead-letters it as EDDY_WORKER_CRASHED and processes the other 99", async () => {
    const [name, topic, out] = [unique("oom"), unique("oom-in"), unique("oom-out")];
    await ensureTopic(topic, 1);
    const reader = await LiveReader.start(out);
    // All 100 are in the log before the function starts, so the first invocation holds all of them.
    const produced = Array.from({ length: 100 }, (_, i) => ({ key: `r${i}`, value: JSON.stringify({ i }), partition: 0 }));
    await produceMessages(topic, produced);
    await deploy(
      eddy,
      `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  startFrom: "earliest",
  async handle(event, ctx) {
    // One array past V8's limit: isolated-vm reports a catastrophic error and the worker process aborts.
    if (event.key === "r37") new Array(2 ** 30).fill(0);
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
    );

    const dlt = await consumeAll(`${name}.dlt`, 1, { timeoutMs: 150_000, settleMs: 1_000 });
    await reader.waitFor(99, 30_000, 1_000);
    const processed = new Set(reader.messages.map((m) => m.key!.toString()));
    expect(processed.size).toBe(99);
    expect(processed.has("r37")).toBe(false);
    expect(dlt.map((m) => m.key!.toString())).toEqual(["r37"]);
    expect(header(dlt[0]!, "eddy-dlt-error-name")).toBe("EDDY_WORKER_CRASHED");
    expect(header(dlt[0]!, "eddy-dlt-error-message")).toMatch(/crashed \d+ times with this record in flight, the last time alone \(signal SIGABRT\)/);
    expect(Number(header(dlt[0]!, "eddy-dlt-attempts"))).toBeGreaterThanOrEqual(3);
    expect(header(dlt[0]!, "eddy-dlt-original-offset")).toBe("37");

    const status = await functionStatus(eddy, name);
    expect(status.crashes.last).toMatchObject({ replica: 0, exit: "signal SIGABRT" });
    expect(status.replicas.restarts).toBeGreaterThanOrEqual(3);
    // Once r37 is dead-lettered and the rest went through, no suspect is left and the worker runs again.
    expect(await eventually(async () => {
      const now = await functionStatus(eddy, name);
      return now.crashes.suspects === 0 && now.replicas.ready === 1 && now.stats.processed >= 99;
    }, 20_000)).toBe(true);
    await reader.stop();
  }, 240_000);
});
