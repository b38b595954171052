import type { IsolateLimits } from "./wire.js";

/**
 * What one function may use in its sandbox besides its heap (`memoryMb`) and time (`timeoutMs`),
 * which come from its configuration. "Per invocation" limits are budgets of one `invoke()`.
 * The README's "Sandbox limits" section lists the same defaults: keep both in step.
 */
export interface SandboxLimits extends IsolateLimits {
  /** Largest emitted record: value, key and header bytes together (Kafka's default max.message.bytes is 1 MiB). */
  maxEmitRecordBytes: number;
  /** Bytes an invocation may emit in total; past it ctx.emit throws EDDY_SANDBOX_EMIT_LIMIT. */
  maxEmitBytesPerInvocation: number;
  /** Records an invocation may emit. */
  maxEmitsPerInvocation: number;
  /** Log lines (console.*, ctx.log.*) per invocation; the excess is dropped, counted and reported. */
  maxLogLinesPerInvocation: number;
  /** Timers pending at once in one isolate. */
  maxPendingTimers: number;
  /** ctx.fetch calls per invocation. */
  maxFetchesPerInvocation: number;
  /** ctx.fetch requests in flight at once per isolate; more wait their turn. */
  maxConcurrentFetches: number;
  /** One ctx.fetch, redirects included; never longer than the invocation has left. */
  fetchTimeoutMs: number;
  /** Largest ctx.fetch request or response body. */
  maxFetchBodyBytes: number;
  /** Redirects one ctx.fetch follows (each checked against egress). */
  maxRedirects: number;
  /** Largest ctx.state value, as JSON with its key (the changelog's records stay under Kafka's 1 MiB default). */
  maxStateValueBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  maxEmitRecordBytes: 1_048_576,
  maxEmitBytesPerInvocation: 16_777_216,
  maxEmitsPerInvocation: 10_000,
  maxLogLinesPerInvocation: 1_000,
  maxPendingTimers: 1_000,
  maxFetchesPerInvocation: 1_000,
  maxConcurrentFetches: 16,
  fetchTimeoutMs: 10_000,
  maxFetchBodyBytes: 5_242_880,
  maxRedirects: 10,
  maxStateValueBytes: 1_048_000,
});

/** Largest bundle a deploy accepts (checked after bundling, and for prebuilt bundles). */
export const MAX_BUNDLE_BYTES = 5_242_880;

/** Characters of one log line; the rest is cut and counted in the line. */
export const MAX_LOG_LINE_CHARS = 16_384;

/** The registry topic as SPEC §6 names it; refused whatever the configured prefix. */

/** The defaults with `overrides` applied; throws a RangeError naming a limit that is not a positive integer. */
export function resolveLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS };
  for (const [name, value] of Object.entries(overrides) as [keyof SandboxLimits, unknown][]) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_SANDBOX_LIMITS)) throw new RangeError(`limits.${name}: unknown limit`);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`limits.${name}: expected an integer >= 0, got ${String(value)}`);
    }
    limits[name] = value;
  }
  return limits;
}

/** The topics ctx.emit refuses (SPEC §9 EDDY_TOPIC_PREFIX, default "eddy."): the same list deploy checks source topics against. */
export { reservedTopicsFor } from "../config/reserved-topics.js";

/** Why `topic` is reserved, or undefined when a function may emit to it. Shared with the harness. */
export { reservedTopicProblem } from "./isolate/reserved-topics.js";
