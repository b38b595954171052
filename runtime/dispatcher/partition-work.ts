import type { SandboxRecord, SerializedError } from "../sandbox/function-sandbox.js";
import { isQuarantined, workerCrashedError, type CrashSuspect, type CrashSuspects } from "./crash-suspects.js";
import { OffsetTracker } from "./offset-tracker.js";
import { stuckRecord, type ForcedDeadLetter, type StuckRecord } from "./stuck-records.js";

/** SPEC §3 `ordering`. */
export type Ordering = "partition" | "key" | "none";

/** A fetched record on its way through the dispatcher. */
export interface PendingRecord {
  readonly record: SandboxRecord;
  readonly offset: bigint;
  /** Records of one lane complete in offset order; different lanes run in parallel. */
  readonly lane: string;
  readonly arrivedAt: number;
  failedAttempts: number;
  /** The replica's success count as its first failing (or cut-short) attempt began (see Invoker.run): a higher count later is evidence of health. */
  evidenceMark?: number;
  lastError?: SerializedError;
  /**
   * Runs in invocations of its own from now on: it was unfinished when a concurrent invocation was
   * cut short (see interpretOutcomes), and alone its blame is exact. It stays so through resets
   * caused by others, so that it cannot slip back into a shared invocation and cut that short too.
   */
  solo?: boolean;
  /** Date.now() at its first failure: how long its lane has waited behind it. */
  firstFailedAt?: number;
  /** It was in flight when a worker of the function crashed: it runs in small invocations, one at a time (crash-suspects.ts). */
  crash?: CrashSuspect;
}

/** What a partition knows of crashes: the function's suspects, and whether a quarantined one can be dead-lettered. */
export interface CrashEvidence {
  suspects: CrashSuspects;
  /** False when the function never dead-letters: a quarantined record keeps running alone instead. */
  canDeadLetter: boolean;
}

/** One unit of work handed to the invoker. */
export interface Dispatch {
  readonly work: PartitionWork;
  readonly records: PendingRecord[];
  /** ctx.attempt: 1, or one more than the failed attempts of a retried group. */
  readonly attempt: number;
  readonly fromRetry: boolean;
  /** Records that exhausted their attempts while the breaker was open: they go to the dead-letter topic without another invocation. */
  readonly deadLetterOnly: boolean;
}

/** What became of a dispatch's records. */
export interface Settlement {
  /** Succeeded or dead-lettered; already marked in the tracker by the sink. */
  finished: PendingRecord[];
  /** Failed; their lanes wait until `dueAt`. */
  retry: { records: PendingRecord[]; dueAt: number; deadLetterOnly: boolean }[];
  /** Never attempted (skipped after an earlier failure, or torn down by another invocation's timeout). */
  requeue: PendingRecord[];
}

export interface NextOptions {
  now: number;
  maxSize: number;
  maxWaitMs: number;
  /** False while the breaker lets no invocation through. */
  invocationsAllowed: boolean;
  /** False while the breaker is open: "no dead-lettering". */
  deadLettersAllowed: boolean;
  /** handleBatch with ordering "key": the function orders a batch itself, so a batch holds one record per key. */
  onePerLane: boolean;
  /**
   * Only records that never failed (the breaker's half-open probes prefer them: a stuck poison
   * record must not be the only thing that ever tests whether the function works again).
   */
  freshOnly?: boolean;
}

interface RetryGroup {
  records: PendingRecord[];
  dueAt: number;
  deadLetterOnly: boolean;
  /** An operator asked for it to be dead-lettered (`eddy dead-letter`): written even while the breaker is open. */
  forced?: boolean;
}

/**
 * The dispatcher's state for one assigned partition: the offset tracker, the records waiting to
 * run (in offset order), the lanes busy with an invocation or a retry wait, and the retry groups.
 *
 * Lanes carry the ordering: with "partition" every record shares one lane (one invocation at a
 * time, a retry holds the whole partition); with "key" a lane is a key (a record without a key
 * is its own lane); with "none" every record is its own lane. A record runs only when its lane is
 * free and no earlier record of its lane is waiting, so a lane's records finish in offset order.
 */
export class PartitionWork {
  readonly tracker = new OffsetTracker();
  /** Invocations (and dead-letter writes) of this partition in flight. */
  inFlight = 0;
  /** Lost in a rebalance (or stopping): nothing more runs, nothing is committed. */
  revoked = false;
  /** The offset last committed for this partition by this replica. */
  committed: bigint | undefined;
  /** A revoked predecessor still finishing invocations: this one waits, so a record never runs twice at once. */
  heldBy: PartitionWork | undefined;
  /** A stateful function's partition whose state is being restored: nothing runs until it is in the store. */
  restoring = false;

  /**
   * Records waiting to run, in offset order, from `#head` on. Records taken from the middle (a free
   * lane behind busy ones) leave a hole (undefined) instead of shifting the rest: a dispatch costs
   * what it takes and skips, not the length of the queue.
   */
  #queue: (PendingRecord | undefined)[] = [];
  #head = 0;
  #holes = 0;
  readonly #busyLanes = new Set<string>();
  #retries: RetryGroup[] = [];
  /** Offsets an operator asked to dead-letter while they were being invoked: a failure sends them on at once. */
  #forcedAfterAttempt = new Set<string>();
  /** Lanes of retry groups in flight: another group of the same lane (records run alone after a cut-short invocation) waits. */
  readonly #retryLanesRunning = new Set<string>();
  #gatherUntil: number | undefined;
  /** The last fetch reached the end of the log: a partial batch does not wait for more. */
  #caughtUp = false;

  /** Crash suspects received and not finished: while there are any, the replica runs one invocation at a time. */
  suspectsWaiting = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly ordering: Ordering,
    private readonly crashes?: CrashEvidence,
  ) {}

  /** Bytes of the values of the records received and not finished (the fetch pauses on them too). */
  unfinishedBytes = 0;

  /**
   * Takes over fetched records it has not seen yet; returns how many were new. `caughtUp`: the
   * fetch reached the end of the log, so nothing more is there to gather: what waits may go at once.
   */
  accept(records: readonly SandboxRecord[], lastOffset: bigint, now: number, caughtUp = false): number {
    if (this.revoked) return 0;
    this.#caughtUp = caughtUp;
    let added = 0;
    for (const record of records) {
      const offset = BigInt(record.offset);
      if (!this.tracker.add(offset)) continue;
      const pending: PendingRecord = { record, offset, lane: this.#laneOf(record, offset), arrivedAt: now, failedAttempts: 0 };
      if (this.crashes !== undefined && this.crashes.suspects.size > 0) this.#suspect(pending);
      this.#queue.push(pending);
      this.unfinishedBytes += record.value === null ? 0 : record.value.byteLength;
      added += 1;
    }
    this.tracker.extendTo(lastOffset);
    return added;
  }

  /** Marks a record the function's workers crashed with: small invocations from now on, or quarantine. */
  #suspect(pending: PendingRecord): void {
    const crash = this.crashes!.suspects.lookup(this.topic, this.partition, pending.record.offset);
    if (crash === undefined) return;
    pending.crash = crash;
    this.suspectsWaiting += 1;
    if (crash.maxBatch <= 1 || isQuarantined(crash)) pending.solo = true;
  }

  /** A record finished (succeeded or dead-lettered, its output durable): the watermark may pass it. Only sinks call this. */
  markDone(pending: PendingRecord): void {
    if (!this.tracker.markDone(pending.offset)) return;
    this.unfinishedBytes -= pending.record.value === null ? 0 : pending.record.value.byteLength;
    if (pending.crash !== undefined) this.suspectsWaiting -= 1;
  }

  /** Whether a failed record holds the whole partition (ordering "partition"): its fetch pauses too. */
  get waitingForRetry(): boolean {
    return this.ordering === "partition" && this.#retries.length > 0;
  }

  /** Records received and not finished. */
  get unfinished(): number {
    return this.tracker.pending;
  }

  /** The next unit of work that may start now, or undefined (see `wakeAt` for when to ask again). */
  next(options: NextOptions): Dispatch | undefined {
    this.#gatherUntil = undefined;
    if (this.revoked || this.restoring || (this.heldBy !== undefined && this.heldBy.inFlight > 0)) return undefined;
    this.heldBy = undefined;
    const retry = options.freshOnly ? undefined : this.#dueRetry(options);
    if (retry !== undefined) return retry;
    if (!options.invocationsAllowed || this.#head >= this.#queue.length) return undefined;
    this.#skipHoles();
    const queue = this.#queue;
    const taken: PendingRecord[] = [];
    const skippedLanes = new Set<string>();
    let oldest = Number.POSITIVE_INFINITY;
    // A crash suspect's invocation holds at most half the records of the one it crashed in.
    let maxSize = options.maxSize;
    for (let i = this.#head; i < queue.length && taken.length < maxSize; i += 1) {
      const pending = queue[i];
      if (pending === undefined) continue;
      const { lane } = pending;
      if (this.#busyLanes.has(lane) || skippedLanes.has(lane)) {
        // With "partition" every record shares one lane: nothing behind a busy one can run.
        if (this.ordering === "partition") break;
        // A later record of a lane that cannot run now must not overtake it.
        skippedLanes.add(lane);
        continue;
      }
      if (pending.solo) {
        if (taken.length > 0) {
          // It runs alone, in the next dispatch; later records of its lane wait for it.
          if (this.ordering === "partition") break;
          skippedLanes.add(lane);
          continue;
        }
        taken.push(pending);
        break;
      }
      if (pending.crash !== undefined && pending.crash.maxBatch < maxSize) {
        if (taken.length >= pending.crash.maxBatch) {
          // Full for this dispatch (no gathering): the suspect leads the next one.
          maxSize = taken.length;
          break;
        }
        maxSize = pending.crash.maxBatch;
      }
      taken.push(pending);
      if (pending.arrivedAt < oldest) oldest = pending.arrivedAt;
      if (options.onePerLane) skippedLanes.add(lane);
    }
    if (taken.length === 0) return undefined;
    const solo = taken[0]!.solo === true;
    if (!solo && taken.length < maxSize && !this.#caughtUp && options.now - oldest < options.maxWaitMs) {
      this.#gatherUntil = oldest + options.maxWaitMs;
      return undefined;
    }
    const quarantined = solo && this.#quarantined(taken[0]!);
    if (quarantined && !options.deadLettersAllowed) return undefined;
    this.#take(taken);
    for (const record of taken) this.#busyLanes.add(record.lane);
    return { work: this, records: taken, attempt: 1, fromRetry: false, deadLetterOnly: quarantined };
  }

  /**
   * A record that crashed its worker alone often enough is dead-lettered without being invoked
   * (EDDY_WORKER_CRASHED, the crash count as its attempts); without a dead-letter topic it keeps
   * running alone, each crash waiting out the supervisor's backoff.
   */
  #quarantined(pending: PendingRecord): boolean {
    const crash = pending.crash;
    if (crash === undefined || !isQuarantined(crash) || this.crashes?.canDeadLetter !== true) return false;
    pending.failedAttempts = crash.crashes;
    pending.lastError = workerCrashedError(crash);
    return true;
  }

  /** Removes dispatched records from the queue: the head moves past them, or they leave holes. */
  #take(taken: PendingRecord[]): void {
    const queue = this.#queue;
    let t = 0;
    for (let i = this.#head; i < queue.length && t < taken.length; i += 1) {
      if (queue[i] !== taken[t]) continue;
      queue[i] = undefined;
      t += 1;
      if (i === this.#head) this.#head += 1;
      else this.#holes += 1;
    }
    this.#skipHoles();
    // Compact once the dead part outweighs the live one.
    if (this.#head + this.#holes > 1_024 && (this.#head + this.#holes) * 2 > queue.length) this.#compact();
  }

  #skipHoles(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head] === undefined) {
      this.#head += 1;
      this.#holes -= 1;
    }
    if (this.#head === queue.length && queue.length > 0) {
      this.#queue = [];
      this.#head = 0;
      this.#holes = 0;
    }
  }

  #compact(): void {
    this.#queue = this.#waiting();
    this.#head = 0;
    this.#holes = 0;
  }

  /** The waiting records, in offset order, without holes. */
  #waiting(): PendingRecord[] {
    const live: PendingRecord[] = [];
    for (let i = this.#head; i < this.#queue.length; i += 1) {
      const pending = this.#queue[i];
      if (pending !== undefined) live.push(pending);
    }
    return live;
  }

  /** When `next` may have something it has not now: the earliest retry due, or the end of a batch's gathering. */
  wakeAt(): number | undefined {
    let at = this.#gatherUntil;
    for (const group of this.#retries) if (at === undefined || group.dueAt < at) at = group.dueAt;
    return at;
  }

  /** Applies what happened to a dispatch's records: frees their lanes, or keeps them for the retry wait. */
  settle(dispatch: Dispatch, settlement: Settlement): void {
    if (this.revoked) return;
    if (dispatch.fromRetry) for (const record of dispatch.records) this.#retryLanesRunning.delete(record.lane);
    const waiting = new Set<string>();
    for (const group of settlement.retry) {
      // Records an operator asked to dead-letter during this attempt go on at once, not after the retry wait.
      const records = group.records.filter((r) => !this.#forceIfAsked(r));
      if (records.length > 0) this.#retries.push({ records, dueAt: group.dueAt, deadLetterOnly: group.deadLetterOnly });
      for (const record of group.records) waiting.add(record.lane);
    }
    // Finished (succeeded or dead-lettered) while an operator's request waited for the attempt: nothing left to do.
    if (this.#forcedAfterAttempt.size > 0) for (const record of settlement.finished) this.#forcedAfterAttempt.delete(record.record.offset);
    if (settlement.requeue.length > 0) {
      if (dispatch.fromRetry) {
        // Records of a retry stay a retry: their lanes keep waiting, and they go again at once (each alone when `solo`).
        const solo = settlement.requeue.filter((r) => r.solo);
        const together = settlement.requeue.filter((r) => !r.solo);
        if (together.length > 0) this.#retries.push({ records: together, dueAt: 0, deadLetterOnly: false });
        for (const record of solo) this.#retries.push({ records: [record], dueAt: 0, deadLetterOnly: false });
        for (const record of settlement.requeue) waiting.add(record.lane);
      } else {
        this.#queue = mergeByOffset(this.#waiting(), settlement.requeue);
        this.#head = 0;
        this.#holes = 0;
      }
    }
    for (const record of dispatch.records) if (!waiting.has(record.lane)) this.#busyLanes.delete(record.lane);
  }

  /** A failed record an operator asked to dead-letter during the attempt: it goes next, breaker or not. */
  #forceIfAsked(record: PendingRecord): boolean {
    if (!this.#forcedAfterAttempt.delete(record.record.offset)) return false;
    this.#retries.push({ records: [record], dueAt: 0, deadLetterOnly: true, forced: true });
    return true;
  }

  /** The partition was lost: what waits is dropped (the new owner fetches it from the committed offset). */
  revoke(): void {
    this.revoked = true;
    this.#forcedAfterAttempt.clear();
    this.suspectsWaiting = 0;
    this.#queue = [];
    this.#head = 0;
    this.#holes = 0;
    this.#retries = [];
    this.#retryLanesRunning.clear();
    this.#busyLanes.clear();
  }

  /** Failed records waiting (for a retry, or for the breaker to allow dead letters) longer than `afterMs`, oldest first. */
  stuck(now: number, afterMs: number): StuckRecord[] {
    const stuck: StuckRecord[] = [];
    for (const group of this.#retries) {
      for (const r of group.records) {
        if (r.firstFailedAt === undefined || now - r.firstFailedAt < afterMs) continue;
        stuck.push(stuckRecord({ topic: this.topic, partition: this.partition, offset: r.record.offset }, r.failedAttempts, r.lastError, now - r.firstFailedAt));
      }
    }
    return stuck.sort((a, b) => b.waitingMs - a.waitingMs);
  }

  /**
   * An operator's decision: the failed record at `offset` goes to the dead-letter topic with its last
   * error at the next dispatch, breaker or not, so that its partition goes on. A record being invoked
   * right now (a retry or the breaker's probe) goes there as soon as this attempt fails; if it
   * succeeds, it is done and nothing is dead-lettered.
   */
  forceDeadLetter(offset: string): ForcedDeadLetter {
    for (let i = 0; i < this.#retries.length; i += 1) {
      const group = this.#retries[i]!;
      const index = group.records.findIndex((r) => r.record.offset === offset);
      if (index < 0) continue;
      const [record] = group.records.splice(index, 1);
      if (group.records.length === 0) this.#retries.splice(i, 1);
      this.#retries.push({ records: [record!], dueAt: 0, deadLetterOnly: true, forced: true });
      return "queued";
    }
    // Not waiting: it may be in an invocation right now (its lane is busy) or not be here at all.
    const running = this.#queue.every((r) => r === undefined || r.record.offset !== offset) && this.tracker.isPending(BigInt(offset));
    if (!running) return "absent";
    this.#forcedAfterAttempt.add(offset);
    return "after-attempt";
  }

  #dueRetry(options: NextOptions): Dispatch | undefined {
    let index = -1;
    for (let i = 0; i < this.#retries.length; i += 1) {
      const group = this.#retries[i]!;
      if (group.dueAt > options.now) continue;
      if (group.records.some((r) => this.#retryLanesRunning.has(r.lane))) continue;
      const allowed = group.forced === true || (group.deadLetterOnly ? options.deadLettersAllowed : options.invocationsAllowed);
      if (allowed && (index < 0 || group.dueAt < this.#retries[index]!.dueAt)) index = i;
    }
    if (index < 0) return undefined;
    const [group] = this.#retries.splice(index, 1);
    for (const record of group!.records) this.#retryLanesRunning.add(record.lane);
    const attempt = Math.max(...group!.records.map((r) => r.failedAttempts)) + 1;
    return { work: this, records: group!.records, attempt, fromRetry: true, deadLetterOnly: group!.deadLetterOnly };
  }

  #laneOf(record: SandboxRecord, offset: bigint): string {
    if (this.ordering === "partition") return "";
    if (this.ordering === "key" && record.key !== null) return `k:${record.key}`;
    // Records without a key (and every record with "none") have no order to keep.
    return `o:${offset}`;
  }
}

function mergeByOffset(queue: PendingRecord[], records: PendingRecord[]): PendingRecord[] {
  const sorted = [...records].sort((a, b) => (a.offset < b.offset ? -1 : 1));
  const merged: PendingRecord[] = [];
  let i = 0;
  let j = 0;
  while (i < queue.length || j < sorted.length) {
    if (j >= sorted.length || (i < queue.length && queue[i]!.offset < sorted[j]!.offset)) merged.push(queue[i++]!);
    else merged.push(sorted[j++]!);
  }
  return merged;
}
