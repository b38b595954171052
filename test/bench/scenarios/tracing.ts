import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { createTopic, paddedValue, produceRecords } from "../lib/kafka-tools.js";
import { progress } from "../lib/progress.js";
import type { Scenario } from "../lib/scenario.js";
import { fmtInt, fmtRatio, median, ratio } from "../lib/stats.js";
import { runEddyFunction, type ConsumeRun } from "../lib/variants.js";

const TOPIC = "bench.tracing";

function source(name: string): string {
  return `
import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "${name}", topics: ["${TOPIC}"], startFrom: "earliest", handle() {} });
`;
}

/** A local OTLP/HTTP endpoint that takes every export and throws it away, counting what it was sent. */
async function discardingCollector(): Promise<{ url: string; received: { requests: number; bytes: number }; close(): Promise<void> }> {
  const received = { requests: 0, bytes: 0 };
  const server = createServer((request, response) => {
    request.on("data", (chunk: Buffer) => (received.bytes += chunk.length));
    request.on("end", () => {
      received.requests += 1;
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const VARIANTS = [
  { id: "off", label: "tracing off (no OTEL_* set)", env: undefined },
  { id: "all", label: "tracing on, sampling 100 %", ratio: "1" },
  { id: "tenth", label: "tracing on, sampling 10 %", ratio: "0.1" },
] as const;

/**
 * Scenario 10: what tracing costs. Records that each carry an upstream `traceparent` (as traffic
 * from traced services does) are consumed by a no-op `handle` with tracing off, on at 100 %, and on
 * at 10 % (traceidratio), exporting to a local OTLP endpoint that discards what it receives; the
 * three alternate over the rounds.
 */
export const tracing: Scenario = {
  id: "tracing",
  number: 10,
  title: "Tracing overhead",
  async run(context) {
    const { records, partitions, valueBytes, timeoutMs, rounds } = context.options.sizes.tracing;
    await createTopic(context.admin, TOPIC, partitions);
    progress(`  producing ${records.toLocaleString("en-US")} records with a traceparent each`);
    const traceparent = () => `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
    await produceRecords(context.kafka, TOPIC, records, (i) => ({ value: paddedValue(i, valueBytes), headers: { traceparent: traceparent() } }), { partitions });
    const collector = await discardingCollector();
    const runs: Record<string, ConsumeRun[]> = { off: [], all: [], tenth: [] };
    const exported: Record<string, number[]> = { off: [], all: [], tenth: [] };
    try {
      for (let round = 1; round <= rounds; round += 1) {
        progress(`  round ${round} of ${rounds}`);
        for (const variant of VARIANTS) {
          const env: Record<string, string> =
            "ratio" in variant
              ? { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: variant.ratio, OTEL_BSP_SCHEDULE_DELAY: "1000" }
              : { OTEL_EXPORTER_OTLP_ENDPOINT: "", OTEL_TRACES_EXPORTER: "" };
          const before = collector.received.bytes;
          const name = `tracing-${variant.id}-${round}`;
          const from = performance.now();
          runs[variant.id]!.push(await runEddyFunction(context, variant.label, { name, source: source(name) }, TOPIC, records, timeoutMs, env));
          exported[variant.id]!.push(collector.received.bytes - before);
          progress(`  ${variant.label}: round took ${((performance.now() - from) / 1000).toFixed(1)} s`);
        }
      }
    } finally {
      await collector.close();
    }

    const rates = (id: string) => runs[id]!.flatMap((r) => (r.complete && r.perSecond !== null ? [r.perSecond] : []));
    const ratios = (id: string) =>
      runs[id]!.map((r, i) => (r.complete ? ratio(r.perSecond, runs.off![i]!.perSecond) : null)).filter((v): v is number => v !== null);
    const rows = VARIANTS.map((variant) => {
      const r = rates(variant.id);
      const vs = ratios(variant.id);
      return [
        variant.label,
        r.length > 0 ? fmtInt(median(r)) : "—",
        variant.id === "off" ? "1.00× (baseline)" : vs.length > 0 ? fmtRatio(median(vs)) : "—",
        fmtInt(median(exported[variant.id]!) / 1024),
      ];
    });
    const notes = Object.values(runs)
      .flat()
      .flatMap((run) => (run.complete ? [] : [`${run.label}: incomplete, ${fmtInt(run.committed)} of ${fmtInt(run.total)} done${run.error ? `: ${run.error.split("\n")[0]}` : ""}`]));
    return {
      setup:
        `${records.toLocaleString("en-US")} records of ${valueBytes} bytes over ${partitions} partitions, each with its own upstream \`traceparent\` header, ` +
        `read by a no-op \`handle\` (default batches of 100, so one \`process\` span per invocation with a link to each record's trace) on a fresh \`eddy start\` per run: ` +
        `tracing off, on at 100 % and on at 10 % (\`OTEL_TRACES_SAMPLER=traceidratio\`), exporting OTLP/HTTP JSON to a local endpoint that discards it. ` +
        `The three alternate for ${rounds} round(s); each ratio is against "off" in the same round. Records/s as in scenario 1 (group join to last commit).`,
      columns: ["variant", "records/s", "vs off", "exported (KiB)"],
      rows,
      targets: [],
      notes,
      data: { records, partitions, rounds, runs, exportedBytes: exported },
    };
  },
};
