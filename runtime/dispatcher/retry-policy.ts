import type { SerializedError } from "../sandbox/function-sandbox.js";
import { backoffDelayMs, type BackoffPolicy } from "./backoff.js";

/** What happens to a record after a failed attempt. */
export type FailureDecision = { action: "dead-letter" } | { action: "retry"; delayMs: number };

export interface FailedAttempt {
  /** Attempts that failed so far, this one included. */
  failedAttempts: number;
  error: SerializedError;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** False when `deadLetter.topic` is false: the record is retried until it succeeds. */
  deadLetterEnabled: boolean;
  /**
   * Evidence that the function works: another record succeeded since this one first failed.
   * Without it a failure may be an outage, and an outage must dead-letter nothing (SPEC §5).
   */
  healthy: boolean;
}

/**
 * Poison versus outage, SPEC §5: a `NonRetriableError` is dead-lettered at once; any other failure
 * is dead-lettered after `maxAttempts` only while the function is known to be healthy, and
 * otherwise retried after an exponential backoff with full jitter (or `RetryAfterError`'s delay).
 *
 * @example
 * ```ts
 * const next = decideAfterFailure({ failedAttempts: 5, error, maxAttempts: 5, backoff, deadLetterEnabled: true, healthy: true });
 * // { action: "dead-letter" }
 * ```
 */
export function decideAfterFailure(attempt: FailedAttempt, random: () => number = Math.random): FailureDecision {
  const { failedAttempts, error, maxAttempts, backoff, deadLetterEnabled, healthy } = attempt;
  if (deadLetterEnabled && (error.retriable === false || (failedAttempts >= maxAttempts && healthy))) {
    return { action: "dead-letter" };
  }
  return { action: "retry", delayMs: error.retryAfterMs ?? backoffDelayMs(backoff, failedAttempts, random) };
}
