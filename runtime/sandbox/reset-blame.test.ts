import { describe, expect, it } from "vitest";
import type { PendingInvocation } from "./isolate-runtime.js";
import { blameOnReset, type ResetCircumstances } from "./reset-blame.js";

function pending(id: number, deadline: number, guilty?: "timeout" | "memory"): PendingInvocation {
  return { id, recordCount: 1, records: [], stopOnFailure: true, deadline, timeoutMs: 500, startedAt: deadline - 500, deadlineTimer: undefined, resolve: () => {}, guilty };
}

const at = (now: number, cause: ResetCircumstances["cause"], responsive = false): ResetCircumstances => ({ cause, now, responsive, memoryMb: 64 });
const codes = (failures: Map<number, { code?: string }>) => Object.fromEntries([...failures].map(([id, f]) => [id, f.code]));

describe("blameOnReset", () => {
  it("blames only the invocation whose own call timed out or died; the others are bystanders", () => {
    expect(codes(blameOnReset([pending(1, 100), pending(2, 200, "timeout"), pending(3, 50)], at(1_000, "timeout")))).toEqual({
      1: "EDDY_SANDBOX_RESET",
      2: "EDDY_SANDBOX_TIMEOUT",
      3: "EDDY_SANDBOX_RESET",
    });
    expect(codes(blameOnReset([pending(1, 100), pending(2, 200, "memory")], at(0, "memory")))).toEqual({ 1: "EDDY_SANDBOX_RESET", 2: "EDDY_SANDBOX_MEMORY" });
  });

  it("blames a sole invocation whatever the signal", () => {
    expect(codes(blameOnReset([pending(1, 5_000)], at(0, "timeout")))).toEqual({ 1: "EDDY_SANDBOX_TIMEOUT" });
    expect(codes(blameOnReset([pending(1, 5_000)], at(0, "memory")))).toEqual({ 1: "EDDY_SANDBOX_MEMORY" });
  });

  it("without a known culprit, blames those past their deadline (timeout) or all (memory), saying the isolate was shared", () => {
    const timeout = blameOnReset([pending(1, 100), pending(2, 900)], at(500, "timeout"));
    expect(codes(timeout)).toEqual({ 1: "EDDY_SANDBOX_TIMEOUT", 2: "EDDY_SANDBOX_RESET" });
    expect(timeout.get(1)!.message).toMatch(/2 invocations shared the isolate/);
    expect(codes(blameOnReset([pending(1, 100), pending(2, 900)], at(500, "memory")))).toEqual({ 1: "EDDY_SANDBOX_MEMORY", 2: "EDDY_SANDBOX_MEMORY" });
  });

  it("gives an unusable result EDDY_SANDBOX_INVALID_RESULT and resets the rest", () => {
    const failures = blameOnReset([pending(1, 100), pending(2, 100)], { ...at(0, "invalid"), invalid: { id: 2, problem: "expected 1 outcomes" } });
    expect(codes(failures)).toEqual({ 1: "EDDY_SANDBOX_RESET", 2: "EDDY_SANDBOX_INVALID_RESULT" });
    expect(failures.get(2)!.message).toMatch(/\(expected 1 outcomes\)/);
  });
});
