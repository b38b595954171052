import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { consumeAll } from "../helpers/kafka.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, produceMessages, sleep, startEddy, stopEddy, unique } from "./support.js";

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

describe("retries and dead-letter topics on the real broker", () => {
  const prefix = unique("dlt");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("dead-letters exactly the 7 poison records of 3,000 on 3 partitions, with every SPEC header, and processes the rest", async () => {
    const [name, topic, out] = [unique("poison"), unique("poison-in"), unique("poison-out")];
    // A poison record is told from an outage by a record that succeeds after its first failure
    // (SPEC §5), so the test keeps the other partitions busy while each one is retried: the poison
    // records are staggered over the partitions (p0: 3, p1: 2, p2: 2; record i is on partition i % 3)
    // so that a partition is never the only one with work, batches are small so that successes show
    // at once, and the backoff is fixed (20, 40, 80, 160 ms) so that a record's 5 attempts span 300 ms.
    const poison = [150, 451, 752, 1_050, 1_351, 1_652, 1_950].map((i) => `r${i}`);
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out);
    const version = await deploy(
      eddy,
      `import { defineFunction } from "eddy/sdk";
class PoisonError extends Error { name = "PoisonError"; }
const POISON = new Set(${JSON.stringify(poison)});
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  batch: { maxSize: 5 },
  retry: { maxAttempts: 5, backoff: { initialMs: 20, multiplier: 2, jitter: "none" } },
  // Should the retries of several partitions ever line up into 5 failures in a row, the breaker opens briefly.
  circuitBreaker: { openMs: 500, maxOpenMs: 2000 },
  async handle(event, ctx) {
    if (POISON.has(event.key)) throw new PoisonError("cannot digest " + event.key);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
    );
    const produced = Array.from({ length: 3_000 }, (_, i) => ({ key: `r${i}`, value: JSON.stringify({ i }), partition: i % 3, headers: { "x-trace": `t${i}` } }));
    await produceMessages(topic, produced);

    const dlt = await consumeAll(`${name}.dlt`, poison.length, { timeoutMs: 60_000, settleMs: 2_000 });
    await reader.waitFor(3_000 - poison.length, 60_000, 1_000);
    const processed = reader.messages.map((m) => m.key!.toString());
    expect(new Set(processed).size).toBe(3_000 - poison.length);
    expect(processed.filter((k) => poison.includes(k))).toEqual([]);
    expect(dlt.map((m) => m.key!.toString()).sort()).toEqual([...poison].sort());
    expect(new Set(processed).size + dlt.length).toBe(produced.length);

    const sources = new Map((await consumeAll(topic, 3_000, { settleMs: 0 })).map((m) => [m.key!.toString(), m]));
    for (const m of dlt) {
      const key = m.key!.toString();
      const source = sources.get(key)!;
      const i = Number(key.slice(1));
      expect(m.value!.toString()).toBe(JSON.stringify({ i }));
      expect(header(m, "x-trace")).toBe(`t${i}`);
      expect(header(m, "eddy-dlt-original-topic")).toBe(topic);
      expect(header(m, "eddy-dlt-original-partition")).toBe(String(i % 3));
      expect(header(m, "eddy-dlt-original-offset")).toBe(source.offset);
      expect(header(m, "eddy-dlt-original-timestamp")).toBe(source.timestamp);
      expect(header(m, "eddy-dlt-function")).toBe(name);
      expect(header(m, "eddy-dlt-function-version")).toBe(String(version));
      expect(header(m, "eddy-dlt-consumer-group")).toBe(`${prefix}.${name}`);
      expect(header(m, "eddy-dlt-attempts")).toBe("5");
      expect(header(m, "eddy-dlt-error-name")).toBe("PoisonError");
      expect(header(m, "eddy-dlt-error-message")).toBe(`cannot digest ${key}`);
      expect(header(m, "eddy-dlt-error-stack")).toContain("PoisonError: cannot digest");
      expect(Date.parse(header(m, "eddy-dlt-failed-at")!)).toBeGreaterThan(Date.now() - 120_000);
    }
    // The breaker did not stay open, and the counts add up.
    expect(await eventually(async () => (await functionStatus(eddy, name)).circuit === "closed", 10_000)).toBe(true);
    expect(await eventually(async () => (await functionStatus(eddy, name)).stats.deadLettered === poison.length, 5_000)).toBe(true);
    await reader.stop();
  });

  // This one and the next share nothing and wait on the broker most of the time: they run side by side.
  it.concurrent("dead-letters a NonRetriableError after exactly one attempt", async () => {
    const [name, topic, out] = [unique("nonretriable"), unique("nonretriable-in"), unique("nonretriable-out")];
    await ensureTopic(topic, 1);
    const reader = await LiveReader.start(out, 1);
    await deploy(
      eddy,
      `import { defineFunction, NonRetriableError } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  async handle(event, ctx) {
    if (event.key === "bad") throw new NonRetriableError("order without email");
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
    );
    await produceMessages(topic, ["a", "b", "bad", "c", "d"].map((key) => ({ key, value: key })));
    const [dead] = await consumeAll(`${name}.dlt`, 1, { timeoutMs: 30_000 });
    await reader.waitFor(4, 30_000, 500);
    expect(dead!.key!.toString()).toBe("bad");
    expect(header(dead!, "eddy-dlt-attempts")).toBe("1");
    expect(header(dead!, "eddy-dlt-error-name")).toBe("NonRetriableError");
    expect(header(dead!, "eddy-dlt-error-message")).toBe("order without email");
    expect(reader.messages.map((m) => m.key!.toString())).toEqual(["a", "b", "c", "d"]);
    // One attempt: one failure and no retry.
    expect(await eventually(async () => (await functionStatus(eddy, name)).stats.deadLettered === 1, 5_000)).toBe(true);
    expect((await functionStatus(eddy, name)).stats).toMatchObject({ failed: 1, retried: 0, deadLettered: 1, processed: 4 });
    await reader.stop();
  });

  it.concurrent("times out a handler that never returns, retries it, dead-letters it, and the partition goes on", async () => {
    const [name, topic, out] = [unique("hang"), unique("hang-in"), unique("hang-out")];
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out);
    await deploy(
      eddy,
      `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  timeoutMs: 1000,
  retry: { maxAttempts: 3, backoff: { initialMs: 50 } },
  async handle(event, ctx) {
    if (event.key === "hang") await new Promise(() => {});
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
    );
    // The hung record comes first on partition 0; its partition's later records must still be processed.
    const partitionZero = [{ key: "hang", value: "x", partition: 0 }, ...Array.from({ length: 20 }, (_, i) => ({ key: `after-${i}`, value: "x", partition: 0 }))];
    await produceMessages(topic, partitionZero);
    // Meanwhile records keep succeeding on the other partitions: the evidence of health that lets
    // the stuck record be dead-lettered rather than wait as in an outage (SPEC §5).
    let others = 0;
    let trickling = true;
    const trickle = (async () => {
      while (trickling) {
        await produceMessages(topic, [{ key: `other-${others}`, value: "x", partition: 1 + (others % 2) }]);
        others += 1;
        await sleep(200);
      }
    })();
    const [dead] = await consumeAll(`${name}.dlt`, 1, { timeoutMs: 60_000, settleMs: 0 });
    trickling = false;
    await trickle;
    expect(dead!.key!.toString()).toBe("hang");
    expect(header(dead!, "eddy-dlt-attempts")).toBe("3");
    expect(header(dead!, "eddy-dlt-error-message")).toMatch(/timeoutMs/);
    await reader.waitFor(20 + others, 30_000, 1_000);
    const keys = reader.messages.map((m) => m.key!.toString());
    expect(new Set(keys).size).toBe(20 + others);
    expect(keys).not.toContain("hang");
    // Partition 0 went on after the hung record left it.
    for (let i = 0; i < 20; i += 1) expect(keys).toContain(`after-${i}`);
    await reader.stop();
  });
});
