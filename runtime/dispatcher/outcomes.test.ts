import { describe, expect, it } from "vitest";
import type { InvocationResult, RecordOutcome } from "../sandbox/function-sandbox.js";
import { interpretOutcomes } from "./outcomes.js";
import type { PendingRecord } from "./partition-work.js";

const pending = (offset: number, lane = ""): PendingRecord => ({
  record: { topic: "t", partition: 0, offset: String(offset), timestamp: 0, key: null, value: null, headers: {} },
  offset: BigInt(offset),
  lane,
  arrivedAt: 0,
  failedAttempts: 0,
});
const ok: RecordOutcome = { status: "ok" };
const skipped: RecordOutcome = { status: "skipped" };
const failed = (code?: string): RecordOutcome => ({ status: "failed", error: { name: "Error", message: "x", retriable: true, ...(code ? { code } : {}) } });
const result = (outcomes: RecordOutcome[]): InvocationResult => ({ outcomes, emitted: [], durationMs: 1 });
const offsetsOf = (records: PendingRecord[]) => records.map((r) => Number(r.offset));

describe("interpretOutcomes", () => {
  it("with handle, blames only the first failure: what came after it was never really attempted", () => {
    const records = [0, 1, 2, 3].map((o) => pending(o));
    // After a timeout the sandbox fails every record it has no outcome for.
    const r = interpretOutcomes(records, result([ok, failed("EDDY_SANDBOX_TIMEOUT"), failed("EDDY_SANDBOX_TIMEOUT"), skipped]), "handle");
    expect(offsetsOf(r.succeeded)).toEqual([0]);
    expect(offsetsOf(r.failed.map((f) => f.record))).toEqual([1]);
    expect(offsetsOf(r.requeue)).toEqual([2, 3]);
    // Skipped records never ran: their wait for evidence of health has not begun.
    expect(r.cutShort).toEqual([]);
    expect(r.verdict).toBe("success");
  });

  it("with handle and lanes run concurrently (ordering key), stops only the failed record's own lane", () => {
    const records = [pending(0, "k:a"), pending(1, "k:b"), pending(2, "k:a"), pending(3, "k:b"), pending(4, "k:c")];
    const r = interpretOutcomes(records, result([failed(), ok, skipped, failed(), failed("EDDY_SANDBOX_TIMEOUT")]), "handle");
    expect(offsetsOf(r.failed.map((f) => f.record))).toEqual([0, 3, 4]);
    expect(offsetsOf(r.succeeded)).toEqual([1]);
    expect(offsetsOf(r.requeue)).toEqual([2]);
  });

  it("with lanes run concurrently, blames no one when several records were cut short, and runs each alone next", () => {
    const records = [pending(0, "k:a"), pending(1, "k:b"), pending(2, "k:c")];
    const r = interpretOutcomes(records, result([failed("EDDY_SANDBOX_TIMEOUT"), ok, failed("EDDY_SANDBOX_TIMEOUT")]), "handle", true);
    expect(r.failed).toEqual([]);
    expect(offsetsOf(r.succeeded)).toEqual([1]);
    expect(offsetsOf(r.requeue)).toEqual([0, 2]);
    expect(r.requeue.every((record) => record.solo)).toBe(true);
    expect(offsetsOf(r.cutShort)).toEqual([0, 2]);
    // One record cut short is the one that did it.
    const alone = interpretOutcomes([pending(0, "k:a"), pending(1, "k:b")], result([failed("EDDY_SANDBOX_TIMEOUT"), ok]), "handle", true);
    expect(offsetsOf(alone.failed.map((f) => f.record))).toEqual([0]);
  });

  it("counts successes beside a failure as evidence of health, never its own lane's earlier records", () => {
    // Keys side by side: a1 failed after a0 succeeded (before it began); b0 succeeded beside it.
    const byKey = [pending(0, "k:a"), pending(1, "k:b"), pending(2, "k:a")];
    const concurrent = interpretOutcomes(byKey, result([ok, ok, failed()]), "handle", true);
    expect(concurrent.successesBefore(byKey[2]!)).toBe(1);
    expect(concurrent.successesBefore(pending(9, "k:c"))).toBe(0);
    // One lane after another (ordering "partition"): every earlier success came before the failure.
    const inOrder = [pending(0), pending(1), pending(2)];
    const sequential = interpretOutcomes(inOrder, result([ok, ok, failed()]), "handle");
    expect(sequential.successesBefore(inOrder[2]!)).toBe(2);
    // handleBatch ran the batch as one: the records that succeeded beside the failure are evidence.
    const batch = [pending(0), pending(1)];
    expect(interpretOutcomes(batch, result([ok, failed()]), "handleBatch").successesBefore(batch[1]!)).toBe(0);
  });

  it("with handleBatch, every failed record counts (partial batch failure)", () => {
    const records = [0, 1, 2].map((o) => pending(o));
    const r = interpretOutcomes(records, result([failed(), ok, failed()]), "handleBatch");
    expect(offsetsOf(r.failed.map((f) => f.record))).toEqual([0, 2]);
    expect(offsetsOf(r.succeeded)).toEqual([1]);
  });

  it("does not count a reset caused by another invocation's timeout", () => {
    const r = interpretOutcomes([pending(0), pending(1)], result([failed("EDDY_SANDBOX_RESET"), failed("EDDY_SANDBOX_RESET")]), "handleBatch");
    expect(r.failed).toEqual([]);
    expect(offsetsOf(r.requeue)).toEqual([0, 1]);
    expect(offsetsOf(r.cutShort)).toEqual([0, 1]);
    expect(r.verdict).toBe("neutral");
  });

  it("calls an invocation failed only when nothing in it succeeded", () => {
    expect(interpretOutcomes([pending(0)], result([failed()]), "handle").verdict).toBe("failure");
    expect(interpretOutcomes([pending(0), pending(1)], result([ok, failed()]), "handleBatch").verdict).toBe("success");
  });
});
