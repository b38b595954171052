import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTopic, paddedValue, produceRecords } from "../lib/kafka-tools.js";
import { progress } from "../lib/progress.js";
import type { Scenario, TargetCheck } from "../lib/scenario.js";
import { fmt, fmtInt, fmtRatio, ratio } from "../lib/stats.js";
import { runBaseline, runEddyFunction, type ConsumeRun } from "../lib/variants.js";

const TOPIC = "bench.slow";
/** The one-record-at-a-time variants read a shorter topic (the first records of TOPIC): their rate is the same over any length, at 10 ms a record. */
const SEQUENTIAL_TOPIC = "bench.slow.sequential";
/** Issue 11's goal: concurrency across keys within a partition, with the default batch of 100. */
const TARGET_KEY_VS_PARTITION = 30;
const KEY_CONCURRENCY = 64;

/**
 * The function awaits the 10 ms call with ctx.fetch. When the sandbox has no ctx.fetch, or its
 * first call fails (e.g. the egress list does not reach the worker), it awaits a 10 ms timer
 * instead, so that the scenario still measures what ordering does with a slow handler; it says
 * which it does in one log line (`eddy-bench-await …`) that the bench reads and puts in the row,
 * and the HTTP server's request count confirms it.
 */
function slowSource(name: string, url: string, callMs: number, topic = TOPIC): string {
  return `
import { defineFunction } from "eddy/sdk";
type Fetch = (url: string) => Promise<{ text?: () => Promise<string> }>;
let mode: string | undefined;
async function viaFetch(fetch: Fetch): Promise<void> {
  const response = await fetch("${url}");
  if (typeof response?.text === "function") await response.text();
}
export default defineFunction({
  name: "${name}",
  topics: ["${topic}"],
  startFrom: "earliest",
  egress: ["127.0.0.1"],
  async handle(event, ctx) {
    const fetch = (ctx as unknown as { fetch?: Fetch }).fetch;
    if (mode === undefined) {
      if (typeof fetch !== "function") {
        mode = "timer: the sandbox has no ctx.fetch";
      } else {
        try {
          await viaFetch(fetch);
          if (mode === undefined) ctx.log.warn("eddy-bench-await fetch");
          mode = "fetch";
          return;
        } catch (error) {
          const e = error as { code?: string; message?: string };
          mode = "timer: ctx.fetch failed: " + (e?.code ? e.code + ": " : "") + String(e?.message ?? error).slice(0, 300);
        }
      }
      ctx.log.warn("eddy-bench-await " + mode);
    }
    if (mode === "fetch" && typeof fetch === "function") await viaFetch(fetch);
    else await new Promise((resolve) => setTimeout(resolve, ${callMs}));
  },
});
`;
}

/** The 10 ms dependency: answers every request after callMs, on 127.0.0.1 only, and counts requests. */
async function startSlowServer(callMs: number): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    hits += 1;
    request.resume();
    setTimeout(() => response.end("ok"), callMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/wait`, hits: () => hits };
}

/** How a variant awaited its 10 ms: "fetch", "timer: <why>" (as the function said), and the HTTP requests the server saw. */
interface AwaitedBy {
  mode: string;
  requests: number;
}

/** Scenario 3: one partition, records over many keys, a handler that awaits a 10 ms call. */
export const slowHandler: Scenario = {
  id: "slow-handler",
  number: 3,
  title: "Slow handler",
  async run(context) {
    const { records, sequentialRecords, keys, callMs, timeoutMs } = context.options.sizes.slowHandler;
    const record = (i: number) => ({ key: `key-${i % keys}`, value: paddedValue(i, 100) });
    await createTopic(context.admin, TOPIC, 1);
    await createTopic(context.admin, SEQUENTIAL_TOPIC, 1);
    progress(`  producing ${records} records over ${keys} keys to 1 partition, and the first ${sequentialRecords} of them to another`);
    await produceRecords(context.kafka, TOPIC, records, record, { partitions: 1 });
    await produceRecords(context.kafka, SEQUENTIAL_TOPIC, sequentialRecords, record, { partitions: 1 });
    const { server, url, hits } = await startSlowServer(callMs);
    try {
      const awaited = new Map<ConsumeRun, AwaitedBy>();
      const timed = async (run: () => Promise<ConsumeRun>): Promise<ConsumeRun> => {
        const before = hits();
        const result = await run();
        const requests = hits() - before;
        const declared = result.markers?.find((m) => m.startsWith("eddy-bench-await "))?.slice("eddy-bench-await ".length);
        awaited.set(result, { requests, mode: declared ?? (result.markers === undefined ? "fetch" : "unknown") });
        return result;
      };
      const baseline = await timed(() =>
        runBaseline(context, "kafkajs eachMessage", { mode: "slow-message", brokers: context.brokers, groupId: "bench.slow.kafkajs", topic: SEQUENTIAL_TOPIC, url }, sequentialRecords, timeoutMs),
      );
      const partition = await timed(() =>
        runEddyFunction(context, `Eddy ordering "partition"`, { name: "slow-partition", source: slowSource("slow-partition", url, callMs, SEQUENTIAL_TOPIC) }, SEQUENTIAL_TOPIC, sequentialRecords, timeoutMs),
      );
      const key = await timed(() =>
        runEddyFunction(
          context,
          `Eddy ordering "key", concurrency ${KEY_CONCURRENCY}`,
          { name: "slow-key", source: slowSource("slow-key", url, callMs), config: { ordering: "key", concurrency: KEY_CONCURRENCY } },
          TOPIC,
          records,
          timeoutMs,
        ),
      );
      // Not the target's configuration: one record per invocation, so at most 64 records are in flight
      // (with the default batch, an invocation runs its batch's keys side by side).
      const keySingle = await timed(() =>
        runEddyFunction(
          context,
          `Eddy ordering "key", concurrency ${KEY_CONCURRENCY}, batch.maxSize 1`,
          { name: "slow-key-single", source: slowSource("slow-key-single", url, callMs), config: { ordering: "key", concurrency: KEY_CONCURRENCY, batch: { maxSize: 1 } } },
          TOPIC,
          records,
          timeoutMs,
        ),
      );
      const runs = [baseline, partition, key, keySingle];

      const keyRatio = ratio(key.perSecond, partition.perSecond);
      // An unfinished "partition" run still gives a true rate (records so far over time so far); an unfinished "key" run fails the goal.
      const keyMet = key.complete && keyRatio !== null && keyRatio >= TARGET_KEY_VS_PARTITION;
      const targets: TargetCheck[] = [
        {
          scenario: "3. Slow handler",
          goal: `ordering "key" (concurrency ${KEY_CONCURRENCY}) ≥ ${TARGET_KEY_VS_PARTITION}× ordering "partition"`,
          measured: `${fmtRatio(keyRatio)} (${fmtInt(key.perSecond)} vs ${fmtInt(partition.perSecond)} records/s)`,
          met: keyMet,
        },
      ];
      const how = (run: ConsumeRun): string => {
        const by = awaited.get(run);
        if (by === undefined || run.error !== undefined) return "—";
        if (by.mode === "fetch") return `HTTP ${callMs} ms (${run === baseline ? "fetch" : "ctx.fetch"}, ${fmtInt(by.requests)} requests)`;
        if (by.mode.startsWith("timer")) return `timer ${callMs} ms (${by.mode.includes("no ctx.fetch") ? "no ctx.fetch" : "ctx.fetch failed"})`;
        return `unknown (${fmtInt(by.requests)} requests)`;
      };
      const rows = runs.map((run) => [
        run.label,
        how(run),
        run.error !== undefined ? "failed (see notes)" : `${fmtInt(run.perSecond)}${run.complete ? "" : ` (incomplete: ${fmtInt(run.committed)} of ${fmtInt(run.total)})`}`,
        run.fromJoinMs === null ? "—" : fmt(run.fromJoinMs / 1000, 1),
        run === baseline ? "1.00× (baseline)" : fmtRatio(ratio(run.perSecond, baseline.perSecond)),
        run === key ? fmtRatio(keyRatio) : run === partition ? "1.00×" : run === keySingle ? fmtRatio(ratio(run.perSecond, partition.perSecond)) : "—",
        run === key ? `≥ ${TARGET_KEY_VS_PARTITION}× "partition"` : "—",
        run === key ? (keyMet ? "yes" : "no") : "—",
      ]);
      const notes: string[] = [];
      for (const run of runs) if (run.error !== undefined) notes.push(`${run.label} failed: ${run.error.split("\n")[0]}`);
      for (const run of [partition, key, keySingle]) {
        const mode = awaited.get(run)?.mode ?? "";
        if (mode.startsWith("timer")) {
          notes.push(`${run.label}: awaited a ${callMs} ms timer instead of the HTTP call, because ${mode.slice("timer: ".length)} (the function found this out at run time and said so; the HTTP server saw ${fmtInt(awaited.get(run)?.requests ?? 0)} requests).`);
        }
        const stats = run.eddyStats;
        if (stats && (stats.failed > 0 || stats.deadLettered > 0)) notes.push(`${run.label}: Eddy reported ${stats.failed} failed and ${stats.deadLettered} dead-lettered invocations.`);
      }
      const ceiling = (1000 / callMs) * KEY_CONCURRENCY;
      notes.push(`For scale: one record at a time cannot pass ${fmtInt(1000 / callMs)} records/s; ${KEY_CONCURRENCY} keys in flight could reach about ${fmtInt(ceiling)} records/s.`);
      notes.push(
        `The last row is not the target's configuration: with \`batch.maxSize\` 1 each invocation holds one record, so at most ${KEY_CONCURRENCY} records are in flight; ` +
          `with the default 100, \`handle\` runs the different keys of an invocation's batch side by side in the isolate (a key's own records one after another), and up to ${KEY_CONCURRENCY} invocations run at once.`,
      );
      return {
        setup:
          `${records.toLocaleString("en-US")} records over ${keys.toLocaleString("en-US")} keys (key-<i mod ${keys}>) on 1 partition, produced before timing. ` +
          `The two variants that run one record at a time (kafkajs and Eddy "partition") read the first ${sequentialRecords.toLocaleString("en-US")} of them, from a topic of their own: ` +
          `at ${callMs} ms a record their rate does not depend on the count, and the whole topic would take them ${fmtInt((records * callMs) / 1000)} s each. ` +
          `The handler awaits a call to a local HTTP server on 127.0.0.1 that answers after ${callMs} ms (\`ctx.fetch\` with \`egress: ["127.0.0.1"]\` in Eddy; ` +
          `when the sandbox has no \`ctx.fetch\`, or its first call fails, the function awaits \`setTimeout(${callMs})\` instead, detects this at run time and says so: see the "awaits" column and the notes). ` +
          `Baseline: a bare kafkajs \`eachMessage\` in its own process awaiting \`fetch\` to the same server. ` +
          `Records/s as in scenario 1: records over the time from the group join to the last record done.`,
        columns: ["variant", "awaits", "records/s", "group join → all done (s)", "vs kafkajs", "vs \"partition\"", "target", "met"],
        rows,
        targets,
        notes,
        data: { records, keys, callMs, concurrency: KEY_CONCURRENCY, runs: runs.map((run) => ({ ...run, awaited: awaited.get(run) })) },
      };
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  },
};
