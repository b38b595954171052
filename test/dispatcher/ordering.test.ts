import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { deploy, ensureTopic, LiveReader, produceMessages, startEddy, stopEddy, unique } from "./support.js";

const RECORDS = 1_500;
const KEYS = 60;

interface Seen {
  p: number;
  o: number;
  k: string;
  /** The isolate's global step counter when the record's handling started and ended. */
  start: number;
  end: number;
  /** Handlers running in the isolate (every invocation shares it) when this one started. */
  running: number;
}

/** Records when each record's handling starts and ends, on one counter shared by every invocation of the isolate. */
function recorder(name: string, topic: string, out: string, config: string): string {
  return `
import { defineFunction } from "eddy/sdk";
let step = 0;
let running = 0;
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  startFrom: "earliest",
  ${config}
  async handle(event, ctx) {
    const start = ++step;
    const now = ++running;
    await new Promise((resolve) => setTimeout(resolve, 2));
    running--;
    const end = ++step;
    await ctx.emit(${JSON.stringify(out)}, { p: event.partition, o: Number(event.offset), k: event.key, start, end, running: now }, { key: event.key });
  },
});`;
}

/** For each group, in offset order: every record started after the one before it ended. */
function assertInOrder(seen: Seen[], groupOf: (s: Seen) => string): number {
  const groups = new Map<string, Seen[]>();
  for (const s of seen) groups.set(groupOf(s), [...(groups.get(groupOf(s)) ?? []), s]);
  for (const [group, records] of groups) {
    records.sort((a, b) => a.o - b.o);
    for (let i = 1; i < records.length; i += 1) {
      expect(records[i]!.start, `${group}: offset ${records[i]!.o} started before ${records[i - 1]!.o} finished`).toBeGreaterThan(records[i - 1]!.end);
    }
  }
  return groups.size;
}

describe("ordering on the real broker", () => {
  const prefix = unique("order");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  const messages = Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % KEYS}`, value: String(i) }));

  // The two functions share nothing but the Eddy: they run side by side.
  it.concurrent('with "partition", each partition\'s records finish in offset order', async () => {
    const [topic, out] = [unique("order-p-in"), unique("order-p-out")];
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out);
    await deploy(eddy, recorder(unique("by-partition"), topic, out, 'ordering: "partition", batch: { maxSize: 50 },'));
    await produceMessages(topic, messages);
    await reader.waitFor(RECORDS, 60_000, 1_000);
    const seen = reader.json<Seen>();
    expect(seen).toHaveLength(RECORDS);
    expect(new Set(seen.map((s) => `${s.p}/${s.o}`)).size).toBe(RECORDS);
    expect(assertInOrder(seen, (s) => String(s.p))).toBe(3);
    await reader.stop();
  });

  it.concurrent('with "key" and concurrency 32, each key\'s records finish in order while several keys run at once', async () => {
    const [topic, out] = [unique("order-k-in"), unique("order-k-out")];
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out);
    await deploy(eddy, recorder(unique("by-key"), topic, out, 'ordering: "key", concurrency: 32, batch: { maxSize: 10 },'));
    await produceMessages(topic, messages);
    await reader.waitFor(RECORDS, 60_000, 1_000);
    const seen = reader.json<Seen>();
    expect(seen).toHaveLength(RECORDS);
    expect(new Set(seen.map((s) => `${s.p}/${s.o}`)).size).toBe(RECORDS);
    expect(assertInOrder(seen, (s) => s.k)).toBe(KEYS);
    // The overlap happened: handlers of different keys were running at the same moment.
    const overlap = Math.max(...seen.map((s) => s.running));
    console.log(`ordering "key": up to ${overlap} records were being handled at once`);
    expect(overlap).toBeGreaterThan(3);
    await reader.stop();
  });
});
