import type { EddyEvent } from "./types.js";

/**
 * The property the host reads to recognise SDK errors after they cross the isolate boundary (the
 * bundle carries its own copy of these classes, so `instanceof` cannot work there).
 *
 * @example
 * ```ts
 * const code = (error as { [ERROR_CODE_PROPERTY]?: string })[ERROR_CODE_PROPERTY];
 * ```
 */
export const ERROR_CODE_PROPERTY = "eddyErrorCode";

/**
 * The codes SDK errors carry in `eddyErrorCode`.
 *
 * @example
 * ```ts
 * if (serialized.code === SdkErrorCode.NonRetriable) deadLetterNow();
 * ```
 */
export const SdkErrorCode = {
  NonRetriable: "EDDY_NON_RETRIABLE",
  RetryAfter: "EDDY_RETRY_AFTER",
  BatchItemFailures: "EDDY_BATCH_ITEM_FAILURES",
} as const;
export type SdkErrorCode = (typeof SdkErrorCode)[keyof typeof SdkErrorCode];

/**
 * Fails the record for good: it is dead-lettered at once, without further attempts.
 *
 * @example
 * ```ts
 * if (!order.email) throw new NonRetriableError("order without email");
 * ```
 */
export class NonRetriableError extends Error {
  readonly eddyErrorCode: typeof SdkErrorCode.NonRetriable = SdkErrorCode.NonRetriable;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NonRetriableError";
  }
}

/**
 * Fails the record and asks for the next attempt no sooner than `retryAfterMs` from now
 * (e.g. a downstream answered 429 with Retry-After).
 *
 * @example
 * ```ts
 * if (res.status === 429) throw new RetryAfterError("rate limited", 30_000);
 * ```
 */
export class RetryAfterError extends Error {
  readonly eddyErrorCode: typeof SdkErrorCode.RetryAfter = SdkErrorCode.RetryAfter;
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    if (typeof retryAfterMs !== "number" || !Number.isFinite(retryAfterMs) || retryAfterMs < 0) {
      throw new RangeError(`RetryAfterError: retryAfterMs: expected a finite number >= 0, got ${String(retryAfterMs)}`);
    }
    super(message, options);
    this.name = "RetryAfterError";
    this.retryAfterMs = Math.round(retryAfterMs);
  }
}

/**
 * Thrown from `handleBatch` to fail only some of the batch's records (the others succeed); the
 * same as returning `{ failed }`.
 *
 * @example
 * ```ts
 * async handleBatch(events, ctx) {
 *   const bad = events.filter((e) => !isValid(e));
 *   if (bad.length > 0) throw new BatchItemFailures(bad, "invalid payloads");
 * }
 * ```
 */
export class BatchItemFailures extends Error {
  readonly eddyErrorCode: typeof SdkErrorCode.BatchItemFailures = SdkErrorCode.BatchItemFailures;
  readonly failed: readonly EddyEvent[];

  constructor(failed: readonly EddyEvent[], message?: string, options?: { cause?: unknown }) {
    super(message ?? `${Array.isArray(failed) ? failed.length : 0} record(s) of the batch failed`, options);
    this.name = "BatchItemFailures";
    this.failed = failed;
  }
}
