import { ERROR_CODE_PROPERTY, SdkErrorCode } from "../../../sdk/errors.js";
import type { SerializedError } from "../serialized-error.js";
import { describeValue, safe } from "./format.js";
import { platformErrorCode } from "./platform-error.js";

const MAX_MESSAGE_CHARS = 8_192;
const MAX_STACK_CHARS = 16_384;
const USER_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Serializes anything a function threw. Never throws: every read of the thrown value is guarded,
 * since it may be a Proxy, have throwing getters, or not be an object at all.
 */
export function serializeError(thrown: unknown): SerializedError {
  return safe(() => read(thrown), { name: "Error", message: "a value was thrown that could not be read", retriable: true });
}

function read(thrown: unknown): SerializedError {
  if (thrown === null || (typeof thrown !== "object" && typeof thrown !== "function")) {
    return { name: "Error", message: truncate(typeof thrown === "string" ? thrown : describeValue(thrown), MAX_MESSAGE_CHARS), retriable: true };
  }
  const get = (key: string): unknown => safe(() => (thrown as Record<string, unknown>)[key], undefined);
  const name = get("name");
  const message = get("message");
  const stack = get("stack");
  const result: SerializedError = {
    name: typeof name === "string" && name.length > 0 ? truncate(name, 200) : "Error",
    message: truncate(typeof message === "string" ? message : describeThrown(thrown), MAX_MESSAGE_CHARS),
    retriable: true,
  };
  if (typeof stack === "string") result.stack = truncate(stack, MAX_STACK_CHARS);
  const platform = platformErrorCode(thrown);
  const marker = get(ERROR_CODE_PROPERTY);
  if (platform !== undefined) {
    result.code = platform.code;
    result.retriable = platform.retriable;
  } else if (marker === SdkErrorCode.NonRetriable) {
    result.code = marker;
    result.retriable = false;
  } else if (marker === SdkErrorCode.RetryAfter) {
    result.code = marker;
    const ms = get("retryAfterMs");
    if (typeof ms === "number" && Number.isFinite(ms) && ms >= 0) result.retryAfterMs = ms;
  } else if (marker === SdkErrorCode.BatchItemFailures) {
    result.code = marker;
  } else {
    // The error's own code (e.g. "ECONNRESET") helps in logs; EDDY_ codes are the platform's.
    const code = get("code");
    if (typeof code === "string" && USER_CODE.test(code) && !code.startsWith("EDDY_")) result.code = code;
  }
  return result;
}

function describeThrown(thrown: unknown): string {
  const text = describeValue(thrown);
  return text === "[unreadable value]" ? "the function threw a value that cannot be read (a Proxy or an object whose properties throw)" : text;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
