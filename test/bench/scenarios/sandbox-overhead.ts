import { performance } from "node:perf_hooks";
import { BUNDLE_GLOBAL_NAME } from "../../../runtime/sandbox/wire.js";
import { bundleFunction } from "../../../runtime/sandbox/bundler.js";
import { FunctionSandbox, type SandboxRecord } from "../../../runtime/sandbox/function-sandbox.js";
import { createEvent } from "../../../sdk/event.js";
import type { Context, EddyEvent } from "../../../sdk/types.js";
import { paddedValue } from "../lib/kafka-tools.js";
import { progress } from "../lib/progress.js";
import type { Scenario, TargetCheck } from "../lib/scenario.js";
import { fmt, fmtRatio, median } from "../lib/stats.js";

const ROUNDS = 3;

const HANDLERS: { label: string; body: string }[] = [
  { label: "no-op", body: "handle() {}" },
  {
    label: "JSON → ctx.emit",
    body: 'handle(event, ctx) { const order = event.json(); return ctx.emit("bench.out", { id: order.i, seen: true }, { key: event.key }); }',
  },
];

function records(count: number): SandboxRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: "bench.sandbox",
    partition: 0,
    offset: String(i),
    timestamp: Date.now(),
    key: `k${i}`,
    value: new Uint8Array(paddedValue(i, 100)),
    headers: {},
  }));
}

type Handle = (event: EddyEvent, ctx: Context) => unknown;

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/**
 * The same bundle, evaluated in this process and called directly, the way the isolate's harness
 * calls it (the SDK's createEvent builds the event; emits are checked, encoded and buffered as the
 * harness does), minus the isolate: no copy across the boundary, no second heap, no settle callback.
 * The emit buffer is written here rather than imported from the harness, whose internals change.
 */
function directRunner(code: string): (batch: readonly SandboxRecord[]) => Promise<number> {
  const module = new Function(`${code}\nreturn ${BUNDLE_GLOBAL_NAME};`)() as { default: { handle: Handle } };
  const definition = module.default;
  const encoder = new TextEncoder();
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  return async (batch) => {
    const emitted: { topic: string; key: string | null; value: Uint8Array | null; headers: Record<string, string>; recordIndex: number }[] = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      const mine: typeof emitted = [];
      const emit = async (topic: string, value: unknown, options?: { key?: string | null; headers?: Record<string, string> }): Promise<void> => {
        if (!TOPIC.test(topic)) throw new TypeError(`ctx.emit: topic: ${topic}`);
        const bytes = value === null ? null : value instanceof Uint8Array ? new Uint8Array(value) : encoder.encode(typeof value === "string" ? value : JSON.stringify(value));
        mine.push({ topic, key: options?.key ?? null, value: bytes, headers: { ...options?.headers }, recordIndex: i });
      };
      // Cast: the SDK's Context grows (ctx.fetch, …) while this handler uses only emit.
      const ctx = { emit, log, env: {}, attempt: 1, function: { name: "sandbox-bench", version: 1 } } as unknown as Context;
      await definition.handle(createEvent(record), ctx);
      emitted.push(...mine);
    }
    return emitted.length;
  };
}

/** Issue 11's goals for the no-op handler: a lone record's invocation, and a record in a batch of 100. */
const OVERHEAD_TARGETS = [
  { batchSize: 1, us: 30, per: "invocation" },
  { batchSize: 100, us: 1.5, per: "record" },
] as const;

/** Microseconds per record over `total` records in batches of `size`. */
async function perRecordUs(total: number, size: number, run: (batch: readonly SandboxRecord[]) => Promise<unknown>, pool: SandboxRecord[]): Promise<number> {
  const invocations = Math.max(1, Math.floor(total / size));
  const batches = Array.from({ length: Math.min(invocations, 64) }, (_, k) => pool.slice((k * size) % pool.length, ((k * size) % pool.length) + size));
  const from = performance.now();
  for (let k = 0; k < invocations; k++) await run(batches[k % batches.length]!);
  return ((performance.now() - from) * 1000) / (invocations * size);
}

/** Scenario 4: per-record cost of an isolate invocation vs a direct in-process call, at batch sizes 1, 10 and 100. */
export const sandboxOverhead: Scenario = {
  id: "sandbox-overhead",
  number: 4,
  title: "Sandbox overhead",
  async run(context) {
    const { recordsPerCase, batchSizes } = context.options.sizes.sandbox;
    const pool = records(Math.max(...batchSizes) * 2);
    const rows: string[][] = [];
    const cases: Record<string, unknown>[] = [];
    const targets: TargetCheck[] = [];
    for (const handler of HANDLERS) {
      const code = await bundleFunction({ source: `import { defineFunction } from "eddy/sdk";\nexport default defineFunction({ name: "sandbox-bench", topics: ["bench.sandbox"], ${handler.body} });\n` });
      const sandbox = await FunctionSandbox.create({ code, memoryMb: 128, env: {}, function: { name: "sandbox-bench", version: 1 }, onLog: () => undefined });
      const direct = directRunner(code);
      const isolated = async (batch: readonly SandboxRecord[]): Promise<void> => {
        const result = await sandbox.invoke(batch, { attempt: 1, timeoutMs: 30_000 });
        const failed = result.outcomes.find((o) => o.status !== "ok");
        if (failed) throw new Error(`the isolate did not run the handler: ${JSON.stringify(failed)}`);
      };
      try {
        for (const size of batchSizes) {
          // Warm both paths (JIT, inline caches) before timing; then alternate rounds so drift hits both.
          await perRecordUs(Math.ceil(recordsPerCase / 10), size, isolated, pool);
          await perRecordUs(Math.ceil(recordsPerCase / 10), size, direct, pool);
          const isolateUs: number[] = [];
          const directUs: number[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            isolateUs.push(await perRecordUs(recordsPerCase, size, isolated, pool));
            directUs.push(await perRecordUs(recordsPerCase, size, direct, pool));
          }
          const isolateMedian = median(isolateUs);
          const directMedian = median(directUs);
          progress(`  ${handler.label}, batch ${size}: isolate ${fmt(isolateMedian, 2)} µs/record, direct ${fmt(directMedian, 2)} µs/record`);
          const overheadUs = isolateMedian - directMedian;
          const goal = handler === HANDLERS[0] ? OVERHEAD_TARGETS.find((t) => t.batchSize === size) : undefined;
          if (goal) {
            const measured = goal.per === "invocation" ? overheadUs * size : overheadUs;
            targets.push({
              scenario: "4. Sandbox overhead",
              goal: `no-op, batch of ${size}: ≤ ${goal.us} µs per ${goal.per}`,
              measured: `${fmt(measured, 2)} µs per ${goal.per} (isolate ${fmt(isolateMedian, 2)} vs direct ${fmt(directMedian, 2)} µs/record)`,
              met: measured <= goal.us,
            });
          }
          cases.push({ handler: handler.label, batchSize: size, isolateUs, directUs, isolateMedianUs: isolateMedian, directMedianUs: directMedian });
          rows.push([
            handler.label,
            String(size),
            fmt(directMedian, 2),
            fmt(isolateMedian, 2),
            fmt(overheadUs, 2),
            fmt((overheadUs * size) / 1000, 3),
            fmtRatio(isolateMedian / directMedian),
          ]);
        }
      } finally {
        sandbox.dispose();
      }
    }
    return {
      setup:
        `In the bench process: the same bundled function run through \`FunctionSandbox.invoke\` (the batch crosses into the isolate as columns, one array per field; the harness builds the events and runs \`handle\` per record; an invocation where every record succeeded answers with a count instead of one outcome per record) ` +
        `and called directly (the bundle evaluated in this process; the event built with the SDK's \`createEvent\`, emits checked, encoded and buffered as the harness does, so what differs is the isolate). ` +
        `${recordsPerCase.toLocaleString("en-US")} records of 100 bytes per case, invocations awaited one after another, after a warm-up of a tenth of that; ` +
        `median of ${ROUNDS} alternating rounds. Two handlers: a no-op, and one that parses the JSON value and emits a small object.`,
      columns: ["handler", "batch size", "direct µs/record", "isolate µs/record", "overhead µs/record", "overhead ms/invocation", "isolate vs direct"],
      rows,
      targets,
      notes: ["Issue 11's goals are for the no-op handler: what a record pays to cross into the isolate and back, alone (per invocation) and in a batch of 100 (per record)."],
      data: { recordsPerCase, batchSizes, rounds: ROUNDS, cases },
    };
  },
};
