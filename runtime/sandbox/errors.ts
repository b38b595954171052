import { EddyError } from "../eddy-error.js";
import { SdkErrorCode } from "../../sdk/errors.js";

/**
 * Every code the sandbox raises or puts on a failed record. The SDK codes arrive from inside the
 * isolate in `SerializedError.code`; the host checks codes, never `instanceof`.
 */
export const SandboxErrorCodes = [
  /** esbuild could not bundle the function (syntax error, unresolved import, …). */
  "EDDY_BUNDLE_FAILED",
  /** The bundle loaded, but its default export is not a function definition (or loading it threw). */
  "EDDY_SANDBOX_INVALID_FUNCTION",
  /** The invocation ran past timeoutMs (a CPU loop or a promise that never settled). */
  "EDDY_SANDBOX_TIMEOUT",
  /** The isolate ran out of heap (memoryMb). */
  "EDDY_SANDBOX_MEMORY",
  /** The isolate was rebuilt because another invocation in it timed out; this one did nothing wrong. */
  "EDDY_SANDBOX_RESET",
  /** invoke() after dispose(): a bug in the caller. */
  "EDDY_SANDBOX_DISPOSED",
  /** handleBatch returned or threw a `failed` list that does not hold this batch's events. */
  "EDDY_SANDBOX_INVALID_BATCH_RESULT",
  SdkErrorCode.NonRetriable,
  SdkErrorCode.RetryAfter,
  SdkErrorCode.BatchItemFailures,
] as const;
export type SandboxErrorCode = (typeof SandboxErrorCodes)[number];

export interface BundleDiagnostic {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, like tsc and editors. */
  column: number;
  message: string;
}

/** A user error: the function's code cannot be bundled. */
export function bundleFailedError(diagnostics: BundleDiagnostic[], cause?: unknown): EddyError {
  const lines = diagnostics.map((d) => (d.file ? `${d.file}:${d.line}:${d.column}: ${d.message}` : d.message));
  return new EddyError("EDDY_BUNDLE_FAILED", `bundling the function failed:\n${lines.join("\n")}`, {
    userError: true,
    context: { diagnostics },
    cause,
  });
}

/** A user error: the bundle does not load into a usable function definition. */
export function invalidFunctionError(problems: string[], context: Record<string, unknown> = {}): EddyError {
  return new EddyError("EDDY_SANDBOX_INVALID_FUNCTION", `invalid function: ${problems.join("; ")}`, {
    userError: true,
    context: { ...context, problems },
  });
}
