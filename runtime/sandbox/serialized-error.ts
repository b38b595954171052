import type { SandboxErrorCode } from "./errors.js";

/**
 * An error as it leaves the isolate: plain data, serialized inside so that nothing the function
 * threw (a Proxy, a getter that throws, a string) can throw on the host. `code` is an SDK code
 * (EDDY_NON_RETRIABLE, EDDY_RETRY_AFTER, EDDY_BATCH_ITEM_FAILURES), a sandbox code
 * (EDDY_SANDBOX_TIMEOUT, …), or the thrown error's own short `code` (e.g. "ECONNRESET").
 */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  retriable: boolean;
  retryAfterMs?: number;
}

/** A failure the host assigns to a record (timeout, heap overflow, reset): no stack, it is not a JS error of the function. */
export function sandboxFailure(code: SandboxErrorCode, message: string, retriable = true): SerializedError {
  return { name: "SandboxError", message, code, retriable };
}
