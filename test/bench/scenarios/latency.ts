import type { Consumer, Producer } from "kafkajs";
import { createTopic, startReader } from "../lib/kafka-tools.js";
import { BaselineProcess } from "../lib/processes.js";
import { progress, sleep, wallMs } from "../lib/progress.js";
import type { BenchContext, Scenario, TargetCheck } from "../lib/scenario.js";
import { fmt, fmtInt, fmtRatio, quantile, ratio } from "../lib/stats.js";

/** Issue 11: Eddy's p99 within 10 % of the bare consume → produce relay, and at most 25 ms. */
const TARGET_P99_MS = 25;
const TARGET_P99_RATIO = 1.1;
const VALUE_BYTES = 100;

interface LatencyRun {
  label: string;
  sent: number;
  received: number;
  duplicates: number;
  /** Records per second the producer achieved over the timed window. */
  achievedRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  error?: string;
}

/** A record's value: its sequence number, its send time (wall clock, ms) and whether it is warm-up, padded to 100 bytes. */
function value(index: number, sentAt: number, warmUp: boolean): Buffer {
  const head = `{"i":${index},"t":${sentAt},"w":${warmUp ? 1 : 0},"p":"`;
  return Buffer.from(`${head}${"x".repeat(Math.max(0, VALUE_BYTES - head.length - 2))}"}`);
}

/**
 * Produces at `ratePerSecond` for `durationMs`: every 10 ms, the records that are due, in one send,
 * stamped with the time of that send. Sends are not awaited one by one, so a slow ack does not
 * lower the rate.
 */
async function produceAtRate(
  producer: Producer,
  topic: string,
  ratePerSecond: number,
  durationMs: number,
  firstIndex: number,
  warmUp: boolean,
  stop: () => boolean = () => false,
): Promise<{ sent: number; elapsedMs: number }> {
  const startedAt = wallMs();
  const sends: Promise<unknown>[] = [];
  let sent = 0;
  while (!stop()) {
    const elapsed = wallMs() - startedAt;
    if (elapsed >= durationMs) break;
    const due = Math.floor((elapsed * ratePerSecond) / 1000) - sent;
    if (due > 0) {
      const sentAt = wallMs();
      const messages = Array.from({ length: due }, (_, k) => {
        const index = firstIndex + sent + k;
        return { key: `k${index}`, value: value(index, sentAt, warmUp) };
      });
      sent += due;
      sends.push(producer.send({ topic, acks: -1, messages }));
    }
    await sleep(10);
  }
  await Promise.all(sends);
  return { sent, elapsedMs: wallMs() - startedAt };
}

/** Warm-up until the relay answers, then a timed window at the full rate, then a drain; latencies from the reader. */
async function measureRelay(
  context: BenchContext,
  label: string,
  inTopic: string,
  outTopic: string,
  startRelay: () => Promise<() => Promise<void>>,
): Promise<LatencyRun> {
  const { ratePerSecond, durationMs, partitions, drainMs, warmUpMs } = context.options.sizes.latency;
  await createTopic(context.admin, inTopic, partitions);
  await createTopic(context.admin, outTopic, partitions);
  const latencies = new Map<number, number>();
  let duplicates = 0;
  let warmArrived = 0;
  const reader: Consumer = await startReader(context.kafka, outTopic, (message) => {
    const arrivedAt = wallMs();
    const parsed = JSON.parse(message.value!.toString()) as { i: number; t: number; w: number };
    if (parsed.w === 1) {
      warmArrived += 1;
      return;
    }
    if (latencies.has(parsed.i)) duplicates += 1;
    else latencies.set(parsed.i, arrivedAt - parsed.t);
  });
  const producer = context.kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let stopRelay: (() => Promise<void>) | undefined;
  try {
    progress(`  ${label}: starting`);
    stopRelay = await startRelay();
    // Warm-up at the full rate until relayed records come back (group joined, isolate warm), then a little more.
    let warmSent = 0;
    const warmUntil = wallMs() + 60_000;
    while (warmArrived === 0 && wallMs() < warmUntil) {
      warmSent += (await produceAtRate(producer, inTopic, ratePerSecond, 250, 1_000_000_000 + warmSent, true)).sent;
    }
    if (warmArrived === 0) throw new Error(`nothing came back on ${outTopic} within 60 s of warm-up`);
    await produceAtRate(producer, inTopic, ratePerSecond, warmUpMs, 2_000_000_000, true);
    progress(`  ${label}: warm; producing ${ratePerSecond}/s for ${durationMs / 1000} s`);
    const { sent, elapsedMs } = await produceAtRate(producer, inTopic, ratePerSecond, durationMs, 0, false);
    const drainUntil = wallMs() + drainMs;
    while (latencies.size < sent && wallMs() < drainUntil) await sleep(50);
    const values = [...latencies.values()];
    const run: LatencyRun = {
      label,
      sent,
      received: latencies.size,
      duplicates,
      achievedRate: (sent / elapsedMs) * 1000,
      p50Ms: quantile(values, 0.5),
      p95Ms: quantile(values, 0.95),
      p99Ms: quantile(values, 0.99),
      maxMs: quantile(values, 1),
      meanMs: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length),
    };
    progress(`  ${label}: ${run.received} of ${sent} back; p50 ${fmt(run.p50Ms)} ms, p95 ${fmt(run.p95Ms)} ms, p99 ${fmt(run.p99Ms)} ms, max ${fmt(run.maxMs)} ms`);
    return run;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`  ${label}: FAILED: ${message.split("\n")[0]}`);
    const nan = Number.NaN;
    return { label, sent: 0, received: 0, duplicates, achievedRate: nan, p50Ms: nan, p95Ms: nan, p99Ms: nan, maxMs: nan, meanMs: nan, error: message };
  } finally {
    await stopRelay?.().catch(() => undefined);
    await producer.disconnect();
    await reader.disconnect();
  }
}

/** Scenario 2: 1,000 records/s for 30 s relayed to an output topic; produce time → arrival on the output topic. */
export const latency: Scenario = {
  id: "latency",
  number: 2,
  title: "Latency",
  async run(context) {
    const { ratePerSecond, durationMs, partitions, warmUpMs } = context.options.sizes.latency;
    // The measuring chain alone (producer → broker → reader, no relay): the floor under both rows.
    const floor = await measureRelay(context, "no relay (producer → reader)", "bench.latency.direct", "bench.latency.direct", async () => async () => undefined);
    const baseline = await measureRelay(context, "kafkajs consume → produce", "bench.latency.kafkajs.in", "bench.latency.kafkajs.out", async () => {
      const relay = await BaselineProcess.start({
        mode: "relay",
        brokers: context.brokers,
        groupId: "bench.latency.kafkajs",
        topic: "bench.latency.kafkajs.in",
        output: "bench.latency.kafkajs.out",
      });
      return () => relay.stop();
    });
    const eddy = await measureRelay(context, "Eddy handle + ctx.emit", "bench.latency.eddy.in", "bench.latency.eddy.out", async () => {
      const instance = await context.startEddy("latency");
      await instance.deploy(`
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "latency-relay",
  topics: ["bench.latency.eddy.in"],
  async handle(event, ctx) {
    await ctx.emit("bench.latency.eddy.out", event.value, { key: event.key });
  },
});
`);
      return () => instance.stop();
    });

    const targets: TargetCheck[] = [];
    const p99Ratio = ratio(eddy.p99Ms, baseline.p99Ms);
    const eddyMet = eddy.error !== undefined || eddy.received < eddy.sent || p99Ratio === null ? false : eddy.p99Ms <= TARGET_P99_MS && p99Ratio <= TARGET_P99_RATIO;
    targets.push({
      scenario: "2. Latency",
      goal: `Eddy p99 ≤ ${TARGET_P99_RATIO}× kafkajs consume → produce and ≤ ${TARGET_P99_MS} ms at ${ratePerSecond.toLocaleString("en-US")} records/s`,
      measured: `p99 ${fmt(eddy.p99Ms)} ms, ${fmtRatio(p99Ratio)} (kafkajs ${fmt(baseline.p99Ms)} ms)`,
      met: eddyMet,
    });
    const rows = [floor, baseline, eddy].map((run) => {
      const isBaseline = run === baseline;
      if (run === floor) {
        return [run.label, `${fmtInt(run.received)} of ${fmtInt(run.sent)}`, fmt(run.achievedRate, 0), fmt(run.p50Ms), fmt(run.p95Ms), fmt(run.p99Ms), fmt(run.maxMs), "(floor)", "—", "—"];
      }
      return [
        run.label,
        run.error !== undefined ? "failed (see notes)" : `${fmtInt(run.received)} of ${fmtInt(run.sent)}`,
        fmt(run.achievedRate, 0),
        fmt(run.p50Ms),
        fmt(run.p95Ms),
        fmt(run.p99Ms),
        fmt(run.maxMs),
        isBaseline ? "1.00× (baseline)" : fmtRatio(ratio(run.p99Ms, baseline.p99Ms)),
        isBaseline ? "—" : `p99 ≤ ${TARGET_P99_RATIO}× and ≤ ${TARGET_P99_MS} ms`,
        isBaseline ? "—" : eddyMet ? "yes" : "no",
      ];
    });
    const notes: string[] = [];
    for (const run of [floor, baseline, eddy]) {
      if (run.error !== undefined) notes.push(`${run.label} failed: ${run.error.split("\n")[0]}`);
      else if (run.received < run.sent) notes.push(`${run.label}: ${run.sent - run.received} records had not arrived ${context.options.sizes.latency.drainMs / 1000} s after the window; the percentiles cover those that did.`);
      if (run.duplicates > 0) notes.push(`${run.label}: ${run.duplicates} records arrived twice (at-least-once redelivery).`);
    }
    return {
      setup:
        `A producer in the bench process writes ${ratePerSecond.toLocaleString("en-US")} records/s (every 10 ms the records due, keys k<n>, ${VALUE_BYTES}-byte values) ` +
        `for ${durationMs / 1000} s to a ${partitions}-partition topic, after a warm-up that lasts until relayed records come back plus ${warmUpMs / 1000} s. ` +
        `Each record carries its send time; the relay copies it to a ${partitions}-partition output topic, where a reader in the bench process takes arrival time minus send time. ` +
        `Baseline: a bare kafkajs consumer in its own process that sends each fetched batch to the output topic with one \`producer.send\` (acks all) and then lets kafkajs commit. ` +
        `Eddy: a function whose \`handle\` does \`ctx.emit(output, event.value, { key })\`, default configuration (batches of 100, \`batch.maxWaitMs\` 10, ordering "partition"). ` +
        `The latency includes the producer's own request, the relay, and the reader's fetch, on both sides alike; ` +
        `the first row measures that chain alone (the reader reads the producer's topic, nothing relays), the floor under the other two.`,
      columns: ["variant", "received", "records/s sent", "p50 ms", "p95 ms", "p99 ms", "max ms", "p99 vs baseline", "target", "met"],
      rows,
      targets,
      notes,
      data: { ratePerSecond, durationMs, partitions, runs: [floor, baseline, eddy] },
    };
  },
};
