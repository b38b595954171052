import type { SerializedError } from "../sandbox/function-sandbox.js";

/**
 * A record its partition has waited behind for a while: it failed, and every invocation since has
 * failed too, so Eddy treats it as an outage and keeps it (SPEC §5) rather than dead-lettering it.
 * An operator who knows it is poison moves it on with `eddy dead-letter` (POST …/dead-letter).
 */
export interface StuckRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Failed attempts so far. */
  attempts: number;
  lastError: { name: string; message: string };
  /** Since its first failure. */
  waitingMs: number;
}

/** How long a failed record waits before it is reported stuck: a few of the breaker's open periods. */
export function stuckAfterMs(openMs: number): number {
  return 3 * openMs;
}

/** Where a record is: `topic/partition@offset`, as `eddy dead-letter` takes it. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** What became of an operator's request to dead-letter a record in a replica. */
export type ForcedDeadLetter =
  /** Found waiting for a retry: it goes to the dead-letter topic next, even with the breaker open. */
  | "queued"
  /** Found in an invocation running now: if that attempt fails, it goes to the dead-letter topic at once. */
  | "after-attempt"
  /** Not waiting here: never fetched by this replica, never failed, or already finished. */
  | "absent";

export function stuckRecord(position: RecordPosition, attempts: number, error: SerializedError | undefined, waitingMs: number): StuckRecord {
  return {
    ...position,
    attempts,
    lastError: { name: error?.name ?? "Error", message: error?.message ?? "unknown failure" },
    waitingMs,
  };
}
