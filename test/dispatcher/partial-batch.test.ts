import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, produceMessages, startEddy, stopEddy, unique } from "./support.js";

describe("handleBatch partial failures on the real broker", () => {
  const prefix = unique("partial");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("retries only the 3 records of 100 that handleBatch reported failed", async () => {
    const [name, topic, out] = [unique("partial"), unique("partial-in"), unique("partial-out")];
    const flaky = ["r7", "r42", "r93"];
    await ensureTopic(topic, 1);
    const reader = await LiveReader.start(out, 1);
    await deploy(
      eddy,
      `import { defineFunction } from "eddy/sdk";
const FLAKY = new Set(${JSON.stringify(flaky)});
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  batch: { maxSize: 100, maxWaitMs: 1000 },
  async handleBatch(events, ctx) {
    // One "seen" record per event of every invocation: the emits of a batch that partly succeeded are kept.
    for (const e of events) await ctx.emit(${JSON.stringify(out)}, { key: e.key, attempt: ctx.attempt, size: events.length });
    return { failed: events.filter((e) => FLAKY.has(e.key) && ctx.attempt === 1) };
  },
});`,
    );
    await produceMessages(topic, Array.from({ length: 100 }, (_, i) => ({ key: `r${i}`, value: String(i) })));
    await reader.waitFor(103, 30_000, 1_500);
    const seen = reader.json<{ key: string; attempt: number; size: number }>();
    const first = seen.filter((s) => s.attempt === 1);
    const retried = seen.filter((s) => s.attempt > 1);
    // One invocation of all 100, then one of exactly the 3 that failed, as attempt 2.
    expect(first).toHaveLength(100);
    expect(new Set(first.map((s) => s.size))).toEqual(new Set([100]));
    expect(retried.map((s) => s.key).sort()).toEqual([...flaky].sort());
    expect(retried.every((s) => s.attempt === 2 && s.size === 3)).toBe(true);
    expect(seen).toHaveLength(103);
    expect(await eventually(async () => (await functionStatus(eddy, name)).stats.processed === 100, 5_000)).toBe(true);
    expect((await functionStatus(eddy, name)).stats).toMatchObject({ processed: 100, failed: 3, retried: 3, deadLettered: 0 });
    await reader.stop();
  });
});
