import type { PendingInvocation } from "./isolate-runtime.js";
import { sandboxFailure, type SerializedError } from "./serialized-error.js";

export interface ResetCircumstances {
  cause: "timeout" | "memory" | "invalid";
  /** For "invalid": the invocation whose result was unusable, and what was wrong with it. */
  invalid?: { id: number; problem: string };
  /** For a timeout: whether the isolate still answered (nothing was looping; the late ones were waiting on something). */
  responsive: boolean;
  /** When the reset began (performance.now()). */
  now: number;
  memoryMb: number;
}

/**
 * Which failure each invocation in flight gets when its isolate is torn down. Invocations share an
 * isolate (ordering "key"/"none"), so one record's loop or heap bomb takes the others down with it;
 * only the one that did it should have the attempt counted (TIMEOUT, MEMORY): the others get
 * EDDY_SANDBOX_RESET, which the dispatcher retries without counting. The culprit is certain when
 * its own call into the isolate timed out or died there (`PendingInvocation.guilty`), or when it is
 * the only invocation. When it cannot be known (a loop or bomb in a timer or fetch callback, with
 * several invocations in flight), every invocation past its deadline is blamed for a timeout, and
 * every one for memory: an innocent record may lose an attempt, but a guilty one never escapes
 * being counted for long, since it is blamed alone as soon as it is caught in its own call.
 */
export function blameOnReset(inflight: readonly PendingInvocation[], circumstances: ResetCircumstances): Map<number, SerializedError> {
  const { cause, now, memoryMb } = circumstances;
  const known = inflight.filter((p) => p.guilty !== undefined);
  const sole = inflight.length === 1 ? inflight[0] : undefined;
  const shared = `; ${inflight.length} invocations shared the isolate, and any of them may have caused it`;
  const bystander = (what: string) => sandboxFailure("EDDY_SANDBOX_RESET", `another invocation in the same isolate ${what}, so the isolate was rebuilt under this one`);
  const timedOut = (pending: PendingInvocation, note = "") =>
    sandboxFailure("EDDY_SANDBOX_TIMEOUT", `the invocation ran longer than timeoutMs (${pending.timeoutMs} ms)${note}; the isolate was rebuilt`);
  const outOfMemory = (note = "") => sandboxFailure("EDDY_SANDBOX_MEMORY", `the function ran out of memory (memoryMb ${memoryMb})${note}; the isolate was rebuilt`);

  const failures = new Map<number, SerializedError>();
  for (const pending of inflight) failures.set(pending.id, failureFor(pending));
  return failures;

  function failureFor(pending: PendingInvocation): SerializedError {
    if (cause === "invalid") {
      const invalid = circumstances.invalid;
      return pending.id === invalid?.id
        ? sandboxFailure(
            "EDDY_SANDBOX_INVALID_RESULT",
            `the sandbox's result could not be used (${invalid.problem}): did the function tamper with Eddy's globals? The isolate was rebuilt`,
          )
        : bystander("returned an unusable result");
    }
    if (known.length > 0) {
      if (pending.guilty === "timeout") return timedOut(pending);
      if (pending.guilty === "memory") return outOfMemory();
      return bystander(known.some((p) => p.guilty === "memory") ? `ran out of memory (memoryMb ${memoryMb})` : "timed out");
    }
    if (sole !== undefined) return cause === "memory" ? outOfMemory() : timedOut(pending);
    if (cause === "memory") return outOfMemory(shared);
    return now >= pending.deadline ? timedOut(pending, circumstances.responsive ? "" : shared) : bystander("timed out");
  }
}
