import { describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { testKafka } from "../helpers/kafka.js";
import { committedOffsets, deploy, ensureTopic, killWorker, LiveReader, produceMessages, startEddy, stopEddy, tally, unique, waitReady, workerPids } from "./support.js";

const RECORDS = 20_000;
const CHUNK = 5_000;
const KILLS = 3;

interface Output {
  p: number;
  o: number;
  k: string;
}

/** What was true the moment a worker died: the group's committed offsets, and how far the output topic went. */
interface KillSnapshot {
  committed: Map<number, bigint>;
  outputEnds: Map<number, bigint>;
}

async function outputEnds(topic: string): Promise<Map<number, bigint>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

function source(name: string, topic: string, out: string, delivery: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  delivery: ${JSON.stringify(delivery)},
  // Keeps the session (and so how long the group waits for a killed member) at its 10 s floor.
  timeoutMs: 5000,
  async handle(event, ctx) {
    // A little work per record, so that a chunk takes a few seconds and a kill lands mid-run.
    if (Number(event.offset) % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await ctx.emit(${JSON.stringify(out)}, { p: event.partition, o: Number(event.offset), k: event.key }, { key: event.key });
  },
});`;
}

/**
 * 20,000 records in 4 chunks; while the worker is in the middle of each of the first three, it is
 * killed with SIGKILL and the supervisor restarts it. Right after each kill the committed offsets
 * must cover only records whose output had already been written.
 */
async function crashRun(eddy: EddyProcess, prefix: string, delivery: "at-least-once" | "exactly-once"): Promise<{ outputs: Output[]; duplicates: number }> {
  const [name, topic, out] = [unique(`crash-${delivery === "exactly-once" ? "eos" : "alo"}`), unique("crash-in"), unique("crash-out")];
  await ensureTopic(topic, 3);
  const reader = await LiveReader.start(out);
  const others = await workerPids(eddy);
  await deploy(eddy, source(name, topic, out, delivery));
  await waitReady(eddy, name);
  const messages = Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: String(i), partition: i % 3 }));
  const distinct = () => new Set(reader.messages.map((m) => m.key!.toString())).size;
  const snapshots: KillSnapshot[] = [];
  const killed: number[] = [];

  for (let chunk = 0; chunk < RECORDS / CHUNK; chunk += 1) {
    await produceMessages(topic, messages.slice(chunk * CHUNK, (chunk + 1) * CHUNK));
    if (chunk >= KILLS) break;
    // Mid-chunk: half of this chunk's records are out, half are still to do.
    const target = chunk * CHUNK + CHUNK / 2;
    const deadline = Date.now() + 90_000;
    while (distinct() < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(distinct(), `records out before kill ${chunk + 1}`).toBeGreaterThanOrEqual(target);
    expect(distinct(), `kill ${chunk + 1} must land mid-run`).toBeLessThan((chunk + 1) * CHUNK);
    killed.push(await killWorker(eddy, others));
    const [committed, ends] = await Promise.all([committedOffsets(`${prefix}.${name}`, topic), outputEnds(out)]);
    snapshots.push({ committed, outputEnds: ends });
    // The supervisor restarts the worker (a new process) before the next chunk's kill.
    const restarted = await waitFor(async () => {
      const pids = (await workerPids(eddy)).filter((pid) => !others.includes(pid));
      return pids.length === 1 && !killed.includes(pids[0]!);
    }, 30_000);
    expect(restarted, `worker restarted after kill ${chunk + 1}`).toBe(true);
  }

  await reader.waitFor(RECORDS, 120_000, 2_000);
  const outputs = reader.json<Output>();
  await reader.stop();

  // Every committed offset covers only finished records: each record below it had its output
  // written before the worker died (output offsets below the end seen at the kill).
  for (const [i, snapshot] of snapshots.entries()) {
    const before = new Set(
      reader.messages.filter((m) => BigInt(m.offset) < (snapshot.outputEnds.get(m.partition) ?? 0n)).map((m) => {
        const o = JSON.parse(m.value!.toString()) as Output;
        return `${o.p}/${o.o}`;
      }),
    );
    for (const [partition, offset] of snapshot.committed) {
      for (let o = 0n; o < offset; o += 1n) expect(before.has(`${partition}/${o}`), `kill ${i + 1}: committed ${partition}@${offset} past unfinished ${o}`).toBe(true);
    }
  }
  const { distinct: seen, duplicates } = tally(outputs.map((o) => o.k));
  expect(seen).toBe(RECORDS);
  if (delivery === "exactly-once") {
    // The outputs really were written in transactions: each commit left a marker in the output topic.
    const ends = [...(await outputEnds(out)).values()].reduce((sum, end) => sum + end, 0n);
    expect(ends).toBeGreaterThan(BigInt(outputs.length));
  }
  expect(killed).toHaveLength(KILLS);
  return { outputs, duplicates };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

// The two runs go side by side, each with its own Eddy: most of a run is the group waiting out the
// killed member's session, and two such waits cost no more than one.
describe.concurrent("kill -9 of the worker on the real broker", () => {
  async function withEddy<T>(run: (eddy: EddyProcess, prefix: string) => Promise<T>): Promise<T> {
    const prefix = unique("crash");
    const eddy = await startEddy(prefix);
    try {
      return await run(eddy, prefix);
    } finally {
      await stopEddy(eddy, prefix);
    }
  }

  it("processes every one of 20,000 records at least once across three kills, committing only finished records", async () => {
    const { duplicates } = await withEddy((eddy, prefix) => crashRun(eddy, prefix, "at-least-once"));
    console.log(`crash test (at-least-once): ${RECORDS} records, ${KILLS} kills, ${duplicates} duplicates`);
  }, 240_000);

  it('with delivery "exactly-once", a read_committed consumer sees each of the 20,000 results exactly once across three kills', async () => {
    const { outputs, duplicates } = await withEddy((eddy, prefix) => crashRun(eddy, prefix, "exactly-once"));
    console.log(`crash test (exactly-once): ${RECORDS} records, ${KILLS} kills, ${duplicates} duplicates`);
    expect(outputs).toHaveLength(RECORDS);
    expect(duplicates).toBe(0);
  }, 240_000);
});
