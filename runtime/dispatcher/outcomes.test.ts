import { describe, expect, it } from "vitest";
import type { InvocationResult, RecordOutcome } from "../sandbox/function-sandbox.js";
import { interpretOutcomes } from "./outcomes.js";
import type { PendingRecord } from "./partition-work.js";

const pending = (offset: number): PendingRecord => ({
  record: { topic: "t", partition: 0, offset: String(offset), timestamp: 0, key: null, value: null, headers: {} },
  offset: BigInt(offset),
  lane: "",
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
    const records = [0, 1, 2, 3].map(pending);
    // After a timeout the sandbox fails every record it has no outcome for.
    const r = interpretOutcomes(records, result([ok, failed("EDDY_SANDBOX_TIMEOUT"), failed("EDDY_SANDBOX_TIMEOUT"), skipped]), "handle");
    expect(offsetsOf(r.succeeded)).toEqual([0]);
    expect(offsetsOf(r.failed.map((f) => f.record))).toEqual([1]);
    expect(offsetsOf(r.requeue)).toEqual([2, 3]);
    expect(r.verdict).toBe("success");
  });

  it("with handleBatch, every failed record counts (partial batch failure)", () => {
    const records = [0, 1, 2].map(pending);
    const r = interpretOutcomes(records, result([failed(), ok, failed()]), "handleBatch");
    expect(offsetsOf(r.failed.map((f) => f.record))).toEqual([0, 2]);
    expect(offsetsOf(r.succeeded)).toEqual([1]);
  });

  it("does not count a reset caused by another invocation's timeout", () => {
    const r = interpretOutcomes([pending(0), pending(1)], result([failed("EDDY_SANDBOX_RESET"), failed("EDDY_SANDBOX_RESET")]), "handleBatch");
    expect(r.failed).toEqual([]);
    expect(offsetsOf(r.requeue)).toEqual([0, 1]);
    expect(r.verdict).toBe("neutral");
  });

  it("calls an invocation failed only when nothing in it succeeded", () => {
    expect(interpretOutcomes([pending(0)], result([failed()]), "handle").verdict).toBe("failure");
    expect(interpretOutcomes([pending(0), pending(1)], result([ok, failed()]), "handleBatch").verdict).toBe("success");
  });
});
