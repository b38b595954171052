import type { SerializedError } from "../sandbox/function-sandbox.js";

/** Crashes with a record in flight, alone, before it is dead-lettered without being invoked again. */
export const QUARANTINE_CRASHES = 3;

/**
 * A record that was in flight when a worker of its function crashed (the supervisor's crash ledger
 * keeps them, runtime/worker/crash-ledger.ts). Until an invocation holding it finishes, it runs in
 * invocations of at most `maxBatch` records, one at a time in its replica, so the next crash
 * narrows the blame (Lambda's bisect-on-error).
 */
export interface CrashSuspect {
  topic: string;
  partition: number;
  offset: string;
  /** Worker crashes with this record in flight. */
  crashes: number;
  /** Half the size of the invocation it crashed in: the largest invocation it may run in next. */
  maxBatch: number;
  /** It was the only record in flight at its last crash. */
  alone: boolean;
  /** How the worker ended at the last crash, e.g. "signal SIGABRT". */
  exit: string;
}

/** Whether a suspect has crashed its worker often enough, alone, to be dead-lettered without another invocation. */
export function isQuarantined(suspect: CrashSuspect): boolean {
  return suspect.alone && suspect.crashes >= QUARANTINE_CRASHES;
}

/** The dead-letter error of a quarantined record (`eddy-dlt-error-name: EDDY_WORKER_CRASHED`). */
export function workerCrashedError(suspect: CrashSuspect): SerializedError {
  return {
    name: "EDDY_WORKER_CRASHED",
    message:
      `the worker crashed ${suspect.crashes} times with this record in flight, the last time alone (${suspect.exit}); ` +
      "it was dead-lettered without invoking the function again. Look for what in this record makes the function exhaust V8 or crash its process.",
    retriable: false,
  };
}

const positionKey = (topic: string, partition: number, offset: string) => `${topic}\u0000${partition}\u0000${offset}`;

/**
 * The crash suspects a replica knows, looked up by position as records are fetched. Empty almost
 * always: `size` lets the fetch path skip the lookup.
 */
export class CrashSuspects {
  #byPosition = new Map<string, CrashSuspect>();

  constructor(suspects: readonly CrashSuspect[] = []) {
    this.replace(suspects);
  }

  get size(): number {
    return this.#byPosition.size;
  }

  /** The supervisor's current list (after a crash of any replica of the function). */
  replace(suspects: readonly CrashSuspect[]): void {
    this.#byPosition = new Map(suspects.map((s) => [positionKey(s.topic, s.partition, s.offset), s]));
  }

  lookup(topic: string, partition: number, offset: string): CrashSuspect | undefined {
    return this.#byPosition.get(positionKey(topic, partition, offset));
  }
}

/**
 * Where the invoker says which records are about to enter the isolate and when they are out again
 * (the worker forwards it to the supervisor, so that a crash is blamed on the records in flight).
 */
export interface FlightLog {
  /** Before the invocation enters the isolate; returns the id to finish it with. */
  started(topic: string, partition: number, offsets: readonly bigint[]): number;
  finished(id: number): void;
}
