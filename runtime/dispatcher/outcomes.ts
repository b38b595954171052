import type { InvocationResult, SerializedError } from "../sandbox/function-sandbox.js";
import type { InvocationVerdict } from "./circuit-breaker.js";
import type { PendingRecord } from "./partition-work.js";

/** What an invocation's per-record outcomes mean for the dispatcher. */
export interface InterpretedOutcomes {
  succeeded: PendingRecord[];
  /** Failures that count as an attempt of that record. */
  failed: { record: PendingRecord; error: SerializedError }[];
  /** Records that were not really attempted: they run again without counting an attempt. */
  requeue: PendingRecord[];
  /** For the breaker: any success proves the function works; only failures (no success) count against it. */
  verdict: InvocationVerdict;
}

/**
 * Sorts an invocation's outcomes. With `handle`, records run one after another and stop at the
 * first failure, so only that first failure is the record's own: the records after it were
 * skipped, or (after a timeout) never reached, whatever outcome they were given. A record torn
 * down by another invocation's timeout (`EDDY_SANDBOX_RESET`) did nothing wrong either.
 *
 * @example
 * ```ts
 * const { succeeded, failed, requeue, verdict } = interpretOutcomes(records, result, "handle");
 * ```
 */
export function interpretOutcomes(records: readonly PendingRecord[], result: InvocationResult, handler: "handle" | "handleBatch"): InterpretedOutcomes {
  const interpreted: InterpretedOutcomes = { succeeded: [], failed: [], requeue: [], verdict: "neutral" };
  let stopped = false;
  for (const [index, record] of records.entries()) {
    const outcome = result.outcomes[index] ?? { status: "skipped" as const };
    if (outcome.status === "ok") {
      interpreted.succeeded.push(record);
    } else if (outcome.status === "skipped" || stopped || outcome.error.code === "EDDY_SANDBOX_RESET") {
      interpreted.requeue.push(record);
    } else {
      interpreted.failed.push({ record, error: outcome.error });
      if (handler === "handle") stopped = true;
    }
  }
  interpreted.verdict = interpreted.succeeded.length > 0 ? "success" : interpreted.failed.length > 0 ? "failure" : "neutral";
  return interpreted;
}
