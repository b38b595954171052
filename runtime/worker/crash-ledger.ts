import { isQuarantined, type CrashSuspect } from "../dispatcher/crash-suspects.js";
import type { InvocationNotice } from "./messages.js";

/** Suspects kept per function at most; the oldest go first (a record committed since is never fetched again). */
const MAX_SUSPECTS = 10_000;

/** Signals by which a process dies of its own doing (V8's fatal OOM aborts); SIGKILL and SIGTERM come from outside. */
const CRASH_SIGNALS = new Set(["SIGABRT", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP"]);

/**
 * Whether a worker's exit is a crash its records may have caused: a fatal signal of its own, or an
 * exit code other than 0 and 1 (1 is the worker's own "cannot go on" exit, e.g. the consumer
 * stopped for good, which is not a record's doing). A kill from outside (kill -9, the kernel's OOM
 * killer, a drain) blames nothing.
 */
export function isRecordCrash(code: number | null, signal: NodeJS.Signals | null): boolean {
  if (signal !== null) return CRASH_SIGNALS.has(signal);
  return code !== null && code !== 0 && code !== 1;
}

/** The last crash blamed on records. */
export interface LastCrash {
  at: string;
  replica: number;
  /** How the worker ended, e.g. "signal SIGABRT". */
  exit: string;
  /** Records it had in flight. */
  inFlight: number;
}

export interface CrashStatus {
  /** Records that were in flight at a crash and have not run through since: they run in small invocations, one at a time. */
  suspects: number;
  /** Of those, records that crashed their worker alone often enough: dead-lettered (EDDY_WORKER_CRASHED) once fetched again. */
  quarantined: number;
  last: LastCrash | null;
}

/** What a crash did to the ledger. */
export interface CrashBlame {
  /** Records in flight when the worker died (all of them now suspects). */
  records: number;
  /** Some record in flight is not yet quarantined: the next run narrows the blame (a smaller invocation, or one more crash alone). */
  bisecting: boolean;
}

const positionKey = (topic: string, partition: number, offset: string) => `${topic}\u0000${partition}\u0000${offset}`;

/**
 * One function's crash evidence, in the supervisor: which records each replica has in flight (its
 * worker says so before every invocation), and, after a worker crashed, which records were in
 * flight then and how often. The suspects go to every replica of the function, which runs them in
 * ever smaller invocations until the culprit is alone, and dead-letters a record that crashed its
 * worker alone `QUARANTINE_CRASHES` times (isQuarantined).
 */
export class CrashLedger {
  /** Per replica index, its invocations in flight by id. */
  readonly #inFlight = new Map<number, Map<number, InvocationNotice>>();
  readonly #suspects = new Map<string, CrashSuspect>();
  #lastCrash: LastCrash | null = null;

  /** A worker's notice: these invocations started, those finished (their records are cleared: they ran without a crash). */
  notice(replica: number, started: readonly InvocationNotice[] = [], finished: readonly number[] = []): void {
    const flights = this.#inFlight.get(replica) ?? new Map();
    this.#inFlight.set(replica, flights);
    // Kept as ranges: offsets are spelled out only after a crash, not for every invocation.
    for (const notice of started) flights.set(notice.id, notice);
    for (const id of finished) {
      const flight = flights.get(id);
      flights.delete(id);
      if (flight === undefined || this.#suspects.size === 0) continue;
      for (const offset of expandRanges(flight.ranges)) this.#suspects.delete(positionKey(flight.topic, flight.partition, offset));
    }
  }

  /** The replica's worker exited on purpose or was killed from outside: what it had in flight is nobody's fault. */
  forget(replica: number): void {
    this.#inFlight.delete(replica);
  }

  /** The replica's worker crashed (isRecordCrash): every record it had in flight becomes (more of) a suspect. */
  crashed(replica: number, exit: string): CrashBlame {
    const flights = [...(this.#inFlight.get(replica)?.values() ?? [])].map((f) => ({ topic: f.topic, partition: f.partition, offsets: expandRanges(f.ranges) }));
    this.#inFlight.delete(replica);
    const records = flights.reduce((sum, f) => sum + f.offsets.length, 0);
    if (records > 0) this.#lastCrash = { at: new Date().toISOString(), replica, exit, inFlight: records };
    let bisecting = false;
    for (const flight of flights) {
      const size = flight.offsets.length;
      for (const offset of flight.offsets) {
        const key = positionKey(flight.topic, flight.partition, offset);
        const before = this.#suspects.get(key);
        const crashes = (before?.crashes ?? 0) + 1;
        // Re-inserted, so that the map's order stays oldest-first for the bound below.
        this.#suspects.delete(key);
        const suspect = { topic: flight.topic, partition: flight.partition, offset, crashes, maxBatch: Math.max(1, Math.ceil(size / 2)), alone: records === 1, exit };
        this.#suspects.set(key, suspect);
        if (!isQuarantined(suspect)) bisecting = true;
      }
    }
    for (const key of this.#suspects.keys()) {
      if (this.#suspects.size <= MAX_SUSPECTS) break;
      this.#suspects.delete(key);
    }
    return { records, bisecting };
  }

  suspects(): CrashSuspect[] {
    return [...this.#suspects.values()];
  }

  /** What `GET /v1/functions/:name` shows of it. */
  status(): CrashStatus {
    let quarantined = 0;
    for (const suspect of this.#suspects.values()) if (isQuarantined(suspect)) quarantined += 1;
    return { suspects: this.#suspects.size, quarantined, last: this.#lastCrash };
  }
}

/** Offsets from inclusive [first, last] ranges (int64 as decimal strings). */
export function expandRanges(ranges: readonly (readonly [string, string])[]): string[] {
  const offsets: string[] = [];
  for (const [first, last] of ranges) for (let o = BigInt(first); o <= BigInt(last); o += 1n) offsets.push(o.toString());
  return offsets;
}

/** Offsets as ascending inclusive [first, last] ranges: a contiguous batch is one pair. */
export function toRanges(offsets: readonly bigint[]): [string, string][] {
  // Batches come in order; retried groups may not.
  let sorted = offsets;
  for (let i = 1; i < offsets.length; i += 1) {
    if (offsets[i]! < offsets[i - 1]!) {
      sorted = [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      break;
    }
  }
  const ranges: [string, string][] = [];
  let first: bigint | undefined;
  let last = 0n;
  for (const offset of sorted) {
    if (first !== undefined && offset === last + 1n) {
      last = offset;
      continue;
    }
    if (first !== undefined) ranges.push([first.toString(), last.toString()]);
    first = offset;
    last = offset;
  }
  if (first !== undefined) ranges.push([first.toString(), last.toString()]);
  return ranges;
}
