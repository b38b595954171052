import { EddyError } from "../eddy-error.js";

/**
 * Every code the dispatcher raises. Each one ends the worker process: the supervisor restarts
 * it, and since nothing was committed past an unfinished record, nothing is lost.
 */
export const DISPATCHER_ERROR_CODES = [
  /** Another producer took this replica's transactional id: this worker is a zombie and must stop. */
  "EDDY_DISPATCH_FENCED",
  /** A transaction kept failing; the worker restarts from the committed offsets. */
  "EDDY_DISPATCH_TRANSACTION_FAILED",
  /** The kafkajs consumer stopped for good (it restarts itself on retriable errors). */
  "EDDY_DISPATCH_CONSUMER_CRASHED",
  /** A stateful function's partitions could not be restored from its changelog for 10 minutes. */
  "EDDY_DISPATCH_STATE_RESTORE_FAILED",
] as const;

export type DispatcherErrorCode = (typeof DISPATCHER_ERROR_CODES)[number];

export function dispatcherError(code: DispatcherErrorCode, message: string, context: Record<string, unknown>, cause?: unknown): EddyError {
  return new EddyError(code, message, { context, cause });
}

/** kafkajs errors carry the broker's error name in `type`. */
export function kafkaErrorType(error: unknown): string | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  return typeof type === "string" ? type : undefined;
}

const FENCED_TYPES = new Set(["INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "INVALID_PRODUCER_ID_MAPPING"]);

/** True when the broker says another producer now owns this transactional id. */
export function isFenced(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type !== undefined && FENCED_TYPES.has(type);
}
