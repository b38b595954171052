import { EddyError } from "../eddy-error.js";
import { SdkErrorCode } from "../../sdk/errors.js";

/**
 * Every code the sandbox raises or puts on a failed record. The SDK codes arrive from inside the
 * isolate in `SerializedError.code`; the host checks codes, never `instanceof`.
 */
export const SandboxErrorCodes = [
  /** esbuild could not bundle the function (syntax error, unresolved import, …), or the bundle exceeds maxBundleBytes. */
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
  /** The harness handed back a result the host could not accept (the function tampered with it); the isolate was rebuilt. */
  "EDDY_SANDBOX_INVALID_RESULT",
  /** ctx.emit with arguments it can never take (a bad topic name, key, value or headers): a TypeError. Not retriable. */
  "EDDY_SANDBOX_INVALID_EMIT",
  /** One emitted record (value, key and headers) is larger than maxEmitRecordBytes. Not retriable. */
  "EDDY_SANDBOX_EMIT_TOO_LARGE",
  /** The invocation emitted more than maxEmitBytesPerInvocation bytes or maxEmitsPerInvocation records. */
  "EDDY_SANDBOX_EMIT_LIMIT",
  /** ctx.emit to one of Eddy's own topics (the registry, `<prefix>*`) or Kafka's internal ones. Not retriable. */
  "EDDY_SANDBOX_RESERVED_TOPIC",
  /** ctx.fetch to a URL (or a redirect to one) whose scheme, host or port `egress` does not allow. Not retriable. */
  "EDDY_SANDBOX_EGRESS_DENIED",
  /** ctx.fetch failed on the network (DNS, connection, TLS, too many redirects). */
  "EDDY_SANDBOX_FETCH_FAILED",
  /** ctx.fetch took longer than fetchTimeoutMs or than the invocation had left. */
  "EDDY_SANDBOX_FETCH_TIMEOUT",
  /** A ctx.fetch request or response body is larger than maxFetchBodyBytes. */
  "EDDY_SANDBOX_FETCH_TOO_LARGE",
  /** A per-invocation quota ran out: pending timers or fetches (the message names the limit). */
  "EDDY_SANDBOX_LIMIT",
  /** The record does not match the definition's `schema` (the message names the issues): it never reached the handler. Not retriable. */
  "EDDY_SANDBOX_SCHEMA_INVALID",
  /** ctx.state in a function without `state` in its definition, or the own-key form for a record without a key or in handleBatch. Not retriable. */
  "EDDY_SANDBOX_STATE_UNAVAILABLE",
  /** ctx.state with a key or value it can never take (not a string key, undefined, not JSON, over maxStateValueBytes). Not retriable. */
  "EDDY_SANDBOX_INVALID_STATE",
  /** The worker's state for the function would grow past `state.maxBytes`: the record's writes are refused. Not retriable. */
  "EDDY_STATE_FULL",
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

/** A user error: the bundle is larger than a deploy accepts. */
export function bundleTooLargeError(file: string, bytes: number, maxBundleBytes: number): EddyError {
  const mib = (n: number) => (n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MiB` : `${(n / 1_024).toFixed(1)} KiB`);
  const message =
    `the bundle is ${bytes} bytes (${mib(bytes)}), over the limit of ${maxBundleBytes} bytes (${mib(maxBundleBytes)}, maxBundleBytes): ` +
    "keep large data out of the code (read it from a topic, or fetch it through egress) and check that no dependency is bundled by mistake";
  return new EddyError("EDDY_BUNDLE_FAILED", `bundling the function failed:\n${file}:1:1: ${message}`, {
    userError: true,
    context: { diagnostics: [{ file, line: 1, column: 1, message }], bytes, maxBundleBytes },
  });
}
