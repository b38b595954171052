import { describe, expect, it } from "vitest";
import type { SandboxRecord } from "../sandbox/function-sandbox.js";
import { CrashSuspects } from "./crash-suspects.js";
import { PartitionWork, type Dispatch, type NextOptions, type Ordering } from "./partition-work.js";

const options: NextOptions = { now: 1_000, maxSize: 3, maxWaitMs: 0, invocationsAllowed: true, deadLettersAllowed: true, onePerLane: false };

function record(offset: number, key: string | null = null): SandboxRecord {
  return { topic: "t", partition: 0, offset: String(offset), timestamp: 0, key, value: null, headers: {} };
}

function work(ordering: Ordering, keys: (string | null)[]): PartitionWork {
  const w = new PartitionWork("t", 0, ordering);
  w.accept(keys.map((key, offset) => record(offset, key)), BigInt(keys.length - 1), 0);
  return w;
}

const offsets = (d: Dispatch | undefined) => d?.records.map((r) => Number(r.offset));
const succeed = (w: PartitionWork, d: Dispatch) => {
  for (const r of d.records) w.tracker.markDone(r.offset);
  w.settle(d, { finished: d.records, retry: [], requeue: [] });
};

describe("PartitionWork", () => {
  it('with ordering "partition" runs one batch at a time, in offset order', () => {
    const w = work("partition", ["a", "b", "c", "d", "e"]);
    const first = w.next(options)!;
    expect(offsets(first)).toEqual([0, 1, 2]);
    expect(w.next(options)).toBeUndefined();
    succeed(w, first);
    expect(offsets(w.next(options))).toEqual([3, 4]);
  });

  it('with ordering "key" runs different keys at once but never two records of one key', () => {
    const w = work("key", ["a", "a", "b", "c", "b"]);
    const first = w.next({ ...options, maxSize: 2 })!;
    expect(offsets(first)).toEqual([0, 1]);
    const second = w.next({ ...options, maxSize: 2 })!;
    // "b" at 2 and "c" at 3; the second "b" waits for the first.
    expect(offsets(second)).toEqual([2, 3]);
    expect(w.next(options)).toBeUndefined();
    succeed(w, second);
    expect(offsets(w.next(options))).toEqual([4]);
  });

  it("takes one record per key when the function orders a batch itself (handleBatch)", () => {
    const w = work("key", ["a", "a", "b"]);
    expect(offsets(w.next({ ...options, onePerLane: true }))).toEqual([0, 2]);
  });

  it('with ordering "none" and records without a key, nothing waits for anything', () => {
    const w = work("none", ["a", "a", "a", "a"]);
    expect(offsets(w.next(options))).toEqual([0, 1, 2]);
    expect(offsets(w.next(options))).toEqual([3]);
    const keyless = work("key", [null, null]);
    expect(offsets(keyless.next(options))).toEqual([0, 1]);
  });

  it("holds a failed record's key until its retry is due, while other keys go on", () => {
    const w = work("key", ["a", "a", "b"]);
    const first = w.next({ ...options, maxSize: 1 })!;
    first.records[0]!.failedAttempts = 1;
    w.settle(first, { finished: [], retry: [{ records: first.records, dueAt: 5_000, deadLetterOnly: false }], requeue: [] });
    expect(offsets(w.next(options))).toEqual([2]);
    expect(w.next(options)).toBeUndefined();
    expect(w.wakeAt()).toBe(5_000);
    const retry = w.next({ ...options, now: 5_000 })!;
    expect(retry).toMatchObject({ fromRetry: true, attempt: 2 });
    expect(offsets(retry)).toEqual([0]);
    succeed(w, retry);
    expect(offsets(w.next({ ...options, now: 5_000 }))).toEqual([1]);
  });

  it('with ordering "partition" a retry holds the whole partition and pauses its fetch', () => {
    const w = work("partition", ["a", "b", "c"]);
    const first = w.next(options)!;
    const [failed, ...skipped] = first.records;
    w.tracker.markDone(0n);
    w.settle(first, { finished: [], retry: [{ records: [failed!], dueAt: 2_000, deadLetterOnly: false }], requeue: skipped });
    expect(w.waitingForRetry).toBe(true);
    expect(w.next(options)).toBeUndefined();
    const retry = w.next({ ...options, now: 2_000 })!;
    expect(offsets(retry)).toEqual([0]);
    succeed(w, retry);
    expect(w.waitingForRetry).toBe(false);
    expect(offsets(w.next({ ...options, now: 2_000 }))).toEqual([1, 2]);
  });

  it("offers only records that never failed when asked for fresh ones (half-open probes)", () => {
    const w = work("key", ["a", "b"]);
    const first = w.next({ ...options, maxSize: 1 })!;
    w.settle(first, { finished: [], retry: [{ records: first.records, dueAt: 0, deadLetterOnly: false }], requeue: [] });
    expect(offsets(w.next({ ...options, freshOnly: true }))).toEqual([1]);
    expect(w.next({ ...options, freshOnly: true })).toBeUndefined();
    expect(offsets(w.next(options))).toEqual([0]);
  });

  it("puts records that were not attempted back in offset order", () => {
    const w = work("none", ["a", "b", "c", "d"]);
    const first = w.next(options)!;
    w.settle(first, { finished: [], retry: [], requeue: [first.records[2]!, first.records[1]!] });
    expect(offsets(w.next({ ...options, maxSize: 10 }))).toEqual([1, 2, 3]);
  });

  it("keeps a dead-letter-only group until dead-lettering is allowed again (breaker open)", () => {
    const w = work("partition", ["a"]);
    const first = w.next(options)!;
    w.settle(first, { finished: [], retry: [{ records: first.records, dueAt: 0, deadLetterOnly: true }], requeue: [] });
    expect(w.next({ ...options, invocationsAllowed: false, deadLettersAllowed: false })).toBeUndefined();
    expect(w.next({ ...options, invocationsAllowed: false, deadLettersAllowed: true })).toMatchObject({ deadLetterOnly: true });
  });

  it("gathers a short batch for maxWaitMs after its oldest record arrived", () => {
    const w = new PartitionWork("t", 0, "partition");
    w.accept([record(0)], 0n, 1_000);
    expect(w.next({ ...options, now: 1_004, maxWaitMs: 10 })).toBeUndefined();
    expect(w.wakeAt()).toBe(1_010);
    w.accept([record(1)], 1n, 1_005);
    expect(offsets(w.next({ ...options, now: 1_010, maxWaitMs: 10 }))).toEqual([0, 1]);
  });

  it("ignores records it already has (a refetch after a rebalance) and runs nothing once revoked", () => {
    const w = work("partition", ["a", "b"]);
    expect(w.accept([record(0), record(1), record(2)], 2n, 0)).toBe(1);
    w.revoke();
    expect(w.next(options)).toBeUndefined();
    expect(w.accept([record(3)], 3n, 0)).toBe(0);
  });

  it("waits for a revoked predecessor's invocations before running anything", () => {
    const old = work("partition", ["a"]);
    old.inFlight = 1;
    const w = work("partition", ["a"]);
    w.heldBy = old;
    expect(w.next(options)).toBeUndefined();
    old.inFlight = 0;
    expect(offsets(w.next(options))).toEqual([0]);
  });

  it('with ordering "key", dispatches every record once and each key in offset order, through holes, compaction and requeues', () => {
    // A seeded walk over 5,000 records of 7 keys, finishing in-flight dispatches in random order.
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const keys = Array.from({ length: 5_000 }, () => `k${Math.floor(random() * 7)}`);
    const w = work("key", keys);
    const inFlight: Dispatch[] = [];
    const seen: number[] = [];
    const lastByKey = new Map<string, number>();
    for (let step = 0; step < 100_000 && seen.length < keys.length; step += 1) {
      const next = random() < 0.6 ? w.next({ ...options, maxSize: 1 + Math.floor(random() * 5) }) : undefined;
      if (next !== undefined) {
        inFlight.push(next);
        continue;
      }
      const done = inFlight.splice(Math.floor(random() * inFlight.length), 1)[0];
      if (done === undefined) continue;
      if (random() < 0.05 && done.records.length > 1) {
        // The last record was never attempted (another invocation's timeout): it goes back to the queue.
        const requeue = done.records.slice(-1);
        const finished = done.records.slice(0, -1);
        for (const r of finished) w.tracker.markDone(r.offset);
        w.settle(done, { finished, retry: [], requeue });
        for (const r of finished) seen.push(Number(r.offset));
        continue;
      }
      succeed(w, done);
      for (const r of done.records) seen.push(Number(r.offset));
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
    for (const offset of seen) {
      const key = keys[offset]!;
      expect(offset).toBeGreaterThan(lastByKey.get(key) ?? -1);
      lastByKey.set(key, offset);
    }
    expect(w.unfinished).toBe(0);
  });

  it("gathers a partial batch for maxWaitMs, unless the fetch reached the end of the log", () => {
    const gathering = new PartitionWork("t", 0, "partition");
    gathering.accept([record(0), record(1)], 1n, 1_000);
    expect(gathering.next({ ...options, maxWaitMs: 100 })).toBeUndefined();
    expect(gathering.wakeAt()).toBe(1_100);
    const caughtUp = new PartitionWork("t", 0, "partition");
    caughtUp.accept([record(0), record(1)], 1n, 1_000, true);
    expect(offsets(caughtUp.next({ ...options, maxWaitMs: 100 }))).toEqual([0, 1]);
  });

  it("runs a solo record in a dispatch of its own, and later records of its key after it", () => {
    const w = work("key", ["a", "b", "a", "c"]);
    const first = w.next({ ...options, maxSize: 10 })!;
    expect(offsets(first)).toEqual([0, 1, 2, 3]);
    // Cut short with every record unfinished: all go back, each to run alone.
    for (const r of first.records) r.solo = true;
    w.settle(first, { finished: [], retry: [], requeue: first.records });
    const batches: number[][] = [];
    for (let d = w.next({ ...options, maxSize: 10 }); d !== undefined; d = w.next({ ...options, maxSize: 10 })) batches.push(offsets(d)!);
    // 0 ("a"), 1 ("b") and 3 ("c") at once, alone each; the second "a" waits for the first.
    expect(batches).toEqual([[0], [1], [3]]);
  });

  it("runs solo retries of one key one after another", () => {
    const w = work("key", ["a", "a", "b"]);
    const first = w.next({ ...options, maxSize: 10 })!;
    for (const r of first.records) r.failedAttempts = 1;
    w.settle(first, { finished: [], retry: [{ records: first.records, dueAt: 0, deadLetterOnly: false }], requeue: [] });
    const retry = w.next(options)!;
    expect(retry.fromRetry).toBe(true);
    for (const r of retry.records) r.solo = true;
    w.settle(retry, { finished: [], retry: [], requeue: retry.records });
    const a1 = w.next(options)!;
    const b = w.next(options)!;
    expect([offsets(a1), offsets(b), w.next(options)]).toEqual([[0], [2], undefined]);
    succeed(w, a1);
    expect(offsets(w.next(options))).toEqual([1]);
  });
});

describe("PartitionWork with crash suspects", () => {
  const suspect = (offset: number, crashes: number, maxBatch: number, alone = false) => ({ topic: "t", partition: 0, offset: String(offset), crashes, maxBatch, alone, exit: "signal SIGABRT" });

  function suspectWork(suspects: ReturnType<typeof suspect>[], count: number, canDeadLetter = true): PartitionWork {
    const w = new PartitionWork("t", 0, "partition", { suspects: new CrashSuspects(suspects), canDeadLetter });
    w.accept(Array.from({ length: count }, (_, i) => record(i)), BigInt(count - 1), 0);
    return w;
  }

  // As the sinks do: through markDone, which counts the suspects down.
  const finish = (w: PartitionWork, d: Dispatch) => {
    for (const r of d.records) w.markDone(r);
    w.settle(d, { finished: d.records, retry: [], requeue: [] });
  };

  it("runs a suspect in an invocation no larger than its maxBatch, and its predecessors without it", () => {
    const w = suspectWork([suspect(3, 1, 2), suspect(4, 1, 2)], 8);
    expect(w.suspectsWaiting).toBe(2);
    const first = w.next({ ...options, maxSize: 10 })!;
    expect(offsets(first)).toEqual([0, 1, 2]);
    finish(w, first);
    const second = w.next({ ...options, maxSize: 10 })!;
    expect(offsets(second)).toEqual([3, 4]);
    finish(w, second);
    expect(w.suspectsWaiting).toBe(0);
    expect(offsets(w.next({ ...options, maxSize: 10 }))).toEqual([5, 6, 7]);
  });

  it("dead-letters a quarantined record without invoking it, with EDDY_WORKER_CRASHED and its crash count", () => {
    const w = suspectWork([suspect(0, 4, 1, true)], 2);
    const dispatch = w.next(options)!;
    expect(dispatch.deadLetterOnly).toBe(true);
    expect(offsets(dispatch)).toEqual([0]);
    expect(dispatch.records[0]!.failedAttempts).toBe(4);
    expect(dispatch.records[0]!.lastError).toMatchObject({ name: "EDDY_WORKER_CRASHED", retriable: false });
    expect(dispatch.records[0]!.lastError!.message).toMatch(/crashed 4 times .* \(signal SIGABRT\)/);
  });

  it("waits for the breaker to allow dead letters, and without a dead-letter topic runs the record alone instead", () => {
    expect(suspectWork([suspect(0, 3, 1, true)], 2).next({ ...options, deadLettersAllowed: false })).toBeUndefined();
    const noDlt = suspectWork([suspect(0, 3, 1, true)], 2, false).next(options)!;
    expect(noDlt.deadLetterOnly).toBe(false);
    expect(offsets(noDlt)).toEqual([0]);
  });
});

describe("PartitionWork: stuck records and an operator's dead-letter", () => {
  const failOnce = (w: PartitionWork, d: Dispatch, at: number) => {
    for (const r of d.records) {
      r.failedAttempts += 1;
      r.firstFailedAt ??= at;
      r.lastError = { name: "DownstreamError", message: "503", retriable: true };
    }
    w.settle(d, { finished: [], retry: [{ records: d.records, dueAt: at + 60_000, deadLetterOnly: false }], requeue: [] });
  };

  /** The next dispatch, with the breaker allowing nothing, dead-letters record 0 with its last error; then record 1 goes. */
  const forcedThenOn = (w: PartitionWork) => {
    const forced = w.next({ ...options, invocationsAllowed: false, deadLettersAllowed: false })!;
    expect(forced).toMatchObject({ deadLetterOnly: true, fromRetry: true });
    expect(offsets(forced)).toEqual([0]);
    expect(forced.records[0]!.lastError?.name).toBe("DownstreamError");
    succeed(w, forced);
    expect(offsets(w.next(options))).toEqual([1]);
  };

  it("reports a failed record waiting longer than the threshold, and not before", () => {
    const w = work("partition", ["a", "b"]);
    failOnce(w, w.next({ ...options, maxSize: 1 })!, 1_000);
    expect(w.stuck(1_500, 1_000)).toEqual([]);
    expect(w.stuck(2_500, 1_000)).toEqual([{ topic: "t", partition: 0, offset: "0", attempts: 1, lastError: { name: "DownstreamError", message: "503" }, waitingMs: 1_500 }]);
  });

  it("dead-letters a forced record at the next dispatch even while the breaker allows nothing, and then the partition goes on", () => {
    const w = work("partition", ["a", "b"]);
    failOnce(w, w.next({ ...options, maxSize: 1 })!, 1_000);
    expect(w.forceDeadLetter("1")).toBe("absent");
    expect(w.forceDeadLetter("0")).toBe("queued");
    forcedThenOn(w);
  });

  it("dead-letters a record asked for during its invocation as soon as that attempt fails, breaker or not", () => {
    const w = work("partition", ["a", "b"]);
    const attempt = w.next({ ...options, maxSize: 1 })!;
    expect(w.forceDeadLetter("0")).toBe("after-attempt");
    failOnce(w, attempt, 1_000);
    // Not the retry a minute of backoff away: the forced dead letter, now.
    forcedThenOn(w);
  });

  it("forgets the request when the attempt it waited for succeeds", () => {
    const w = work("partition", ["a", "b"]);
    const attempt = w.next({ ...options, maxSize: 1 })!;
    expect(w.forceDeadLetter("0")).toBe("after-attempt");
    succeed(w, attempt);
    const next = w.next({ ...options, maxSize: 1 })!;
    expect(next).toMatchObject({ deadLetterOnly: false, fromRetry: false });
    expect(offsets(next)).toEqual([1]);
    // Record 1 fails: it was never asked for, so it waits for its retry like any other.
    failOnce(w, next, 1_000);
    expect(w.next({ ...options, now: 2_000 })).toBeUndefined();
  });
});
