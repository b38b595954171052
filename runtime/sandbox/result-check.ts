import { SdkErrorCode } from "../../sdk/errors.js";
import type { SandboxErrorCode } from "./errors.js";
import { emittedBytes } from "./isolate/emit.js";
import { utf8Length } from "./isolate/text-codec.js";
import { reservedTopicProblem } from "./isolate/reserved-topics.js";
import type { SandboxLimits } from "./limits.js";
import { sandboxFailure, type SerializedError } from "./serialized-error.js";
import type { RecordOutcome } from "./types.js";
import type { ReservedTopics, WireEmit, WireResult, WireStateWrite } from "./wire.js";

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const USER_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
/** The EDDY_ codes the harness may put on a record; the others (timeout, memory, reset) only the host assigns. */
const ISOLATE_CODES = new Set<string>([
  ...Object.values(SdkErrorCode),
  "EDDY_SANDBOX_INVALID_BATCH_RESULT",
  "EDDY_SANDBOX_INVALID_EMIT",
  "EDDY_SANDBOX_EMIT_TOO_LARGE",
  "EDDY_SANDBOX_EMIT_LIMIT",
  "EDDY_SANDBOX_RESERVED_TOPIC",
  "EDDY_SANDBOX_EGRESS_DENIED",
  "EDDY_SANDBOX_FETCH_FAILED",
  "EDDY_SANDBOX_FETCH_TIMEOUT",
  "EDDY_SANDBOX_FETCH_TOO_LARGE",
  "EDDY_SANDBOX_LIMIT",
  "EDDY_SANDBOX_STATE_UNAVAILABLE",
  "EDDY_SANDBOX_INVALID_STATE",
  "EDDY_SANDBOX_SCHEMA_INVALID",
] satisfies string[]);

const OK: RecordOutcome = Object.freeze({ status: "ok" });

export interface ResultRules {
  limits: Pick<SandboxLimits, "maxEmitRecordBytes" | "maxEmitBytesPerInvocation" | "maxEmitsPerInvocation" | "maxStateValueBytes">;
  reserved: ReservedTopics;
  stopOnFailure: boolean;
}

/**
 * Checks what the harness handed back. The harness shares its context with the function, which can
 * tamper with it, so nothing it says is trusted: the shape is checked, error codes only the host may
 * assign are dropped, and the emit rules (reserved topics, sizes, counts) are enforced here again.
 * A record whose emits break a rule fails with that rule's code and loses its emits.
 *
 * @returns the result, or a problem when its shape is wrong (the isolate is then rebuilt).
 */
export function checkResult(raw: unknown, recordCount: number, rules: ResultRules): WireResult | { problem: string } {
  if (raw === null || typeof raw !== "object") return { problem: "the result is not an object" };
  const { outcomes: sentOutcomes, emitted: rawEmitted, logsDropped, stateWrites: rawStateWrites } = raw as Record<string, unknown>;
  if (rawStateWrites !== undefined && !Array.isArray(rawStateWrites)) return { problem: "stateWrites is not an array" };
  let outcomes: (RecordOutcome | null)[];
  if (sentOutcomes === recordCount) {
    // A number says every record succeeded (see SentResult).
    outcomes = new Array<RecordOutcome>(recordCount).fill(OK);
  } else {
    if (!Array.isArray(sentOutcomes) || sentOutcomes.length !== recordCount) return { problem: `expected ${recordCount} outcomes` };
    outcomes = [];
    for (const outcome of sentOutcomes as unknown[]) {
      const checked = checkOutcome(outcome);
      if (checked === undefined) return { problem: "an outcome has the wrong shape" };
      outcomes.push(checked);
    }
  }
  const emitted = rawEmitted === null ? [] : checkEmits(rawEmitted, recordCount);
  if (emitted === undefined) return { problem: "an emitted record has the wrong shape" };
  const stateWrites: WireStateWrite[] = [];
  for (const write of (rawStateWrites ?? []) as unknown[]) {
    const checked = checkStateWrite(write, recordCount, rules.limits.maxStateValueBytes);
    if (checked === undefined) return { problem: "a state write has the wrong shape or size" };
    stateWrites.push(checked);
  }
  const result: WireResult = {
    outcomes,
    emitted,
    logsDropped: typeof logsDropped === "number" && Number.isSafeInteger(logsDropped) && logsDropped > 0 ? logsDropped : 0,
  };
  const enforced = enforceEmitRules(result, rules);
  // Only records that succeeded write state (handleBatch's writes, index -1, when any record did).
  const ok = (index: number) => (index === -1 ? enforced.outcomes.some((o) => o?.status === "ok") : enforced.outcomes[index]?.status === "ok");
  const kept = stateWrites.filter((write) => ok(write.recordIndex));
  if (kept.length > 0) enforced.stateWrites = kept;
  return enforced;
}

function checkStateWrite(value: unknown, recordCount: number, maxValueBytes: number): WireStateWrite | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { key, value: json, recordIndex } = value as Record<string, unknown>;
  if (typeof key !== "string" || (json !== null && typeof json !== "string")) return undefined;
  if (typeof recordIndex !== "number" || !Number.isInteger(recordIndex) || recordIndex < -1 || recordIndex >= recordCount) return undefined;
  if (utf8Length(key) + (json === null ? 0 : utf8Length(json)) > maxValueBytes) return undefined;
  return { key, value: json, recordIndex };
}

function enforceEmitRules(result: WireResult, rules: ResultRules): WireResult {
  const { limits, reserved } = rules;
  const broken = new Map<number, SerializedError>();
  let bytes = 0;
  let count = 0;
  for (const emit of result.emitted) {
    if (broken.has(emit.recordIndex)) continue;
    const size = emittedBytes(emit);
    const problem = reservedTopicProblem(emit.topic, reserved);
    let failure: SerializedError | undefined;
    if (problem !== undefined) failure = sandboxFailure("EDDY_SANDBOX_RESERVED_TOPIC", problem, false);
    else if (size > limits.maxEmitRecordBytes) {
      failure = sandboxFailure("EDDY_SANDBOX_EMIT_TOO_LARGE", `an emitted record is ${size} bytes; the limit is ${limits.maxEmitRecordBytes} (maxEmitRecordBytes)`, false);
    } else if (count + 1 > limits.maxEmitsPerInvocation || bytes + size > limits.maxEmitBytesPerInvocation) {
      failure = sandboxFailure("EDDY_SANDBOX_EMIT_LIMIT", `the invocation emitted more than ${limits.maxEmitsPerInvocation} records or ${limits.maxEmitBytesPerInvocation} bytes`);
    }
    if (failure !== undefined) broken.set(emit.recordIndex, failure);
    else {
      bytes += size;
      count += 1;
    }
  }
  if (broken.size === 0) return result;
  const outcomes = [...result.outcomes];
  const failedAt = (index: number) => broken.get(index) ?? broken.get(-1);
  let first = Number.POSITIVE_INFINITY;
  for (let i = 0; i < outcomes.length; i++) {
    const failure = failedAt(i);
    if (failure === undefined) continue;
    outcomes[i] = { status: "failed", error: failure };
    first = Math.min(first, i);
  }
  // With stopOnFailure, records after a failed one count as not run: they and their emits go again.
  const dropFrom = rules.stopOnFailure ? first : Number.POSITIVE_INFINITY;
  for (let i = first + 1; i < outcomes.length && rules.stopOnFailure; i++) {
    if (outcomes[i]?.status === "ok") outcomes[i] = { status: "skipped" };
  }
  const emitted = result.emitted.filter((emit) => !broken.has(emit.recordIndex) && !broken.has(-1) && emit.recordIndex < dropFrom);
  return { ...result, outcomes, emitted };
}

function checkOutcome(value: unknown): RecordOutcome | null | undefined {
  if (value === null) return null;
  if (typeof value !== "object") return undefined;
  const { status, error } = value as { status?: unknown; error?: unknown };
  if (status === "ok" || status === "skipped") return { status };
  if (status !== "failed") return undefined;
  return { status: "failed", error: checkError(error) };
}

function checkError(value: unknown): SerializedError {
  if (value === null || typeof value !== "object") return sandboxFailure("EDDY_SANDBOX_INVALID_RESULT", "the record failed with an unreadable error");
  const e = value as Record<string, unknown>;
  const error: SerializedError = {
    name: typeof e.name === "string" && e.name.length > 0 ? e.name.slice(0, 200) : "Error",
    message: typeof e.message === "string" ? e.message.slice(0, 8_192) : "",
    retriable: e.retriable !== false,
  };
  if (typeof e.stack === "string") error.stack = e.stack.slice(0, 16_384);
  if (typeof e.code === "string" && (ISOLATE_CODES.has(e.code) || (USER_CODE.test(e.code) && !e.code.startsWith("EDDY_")))) {
    error.code = e.code as SandboxErrorCode;
  }
  if (error.code === SdkErrorCode.NonRetriable) error.retriable = false;
  if (typeof e.retryAfterMs === "number" && Number.isFinite(e.retryAfterMs) && e.retryAfterMs >= 0) error.retryAfterMs = e.retryAfterMs;
  return error;
}

/** The emits packed by the harness (packEmits), unpacked: each value a view into the one buffer that crossed. */
function checkEmits(value: unknown, recordCount: number): WireEmit[] | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { topics, keys, recordIndexes, valueLengths, headers, data } = value as Record<string, unknown>;
  if (!Array.isArray(topics) || !Array.isArray(keys) || !(recordIndexes instanceof Int32Array) || !(valueLengths instanceof Int32Array) || !(data instanceof Uint8Array)) return undefined;
  const count = topics.length;
  if (keys.length !== count || recordIndexes.length !== count || valueLengths.length !== count) return undefined;
  if (headers !== null && (!Array.isArray(headers) || headers.length !== count)) return undefined;
  const emitted: WireEmit[] = new Array<WireEmit>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const topic: unknown = topics[i];
    const key: unknown = keys[i];
    const recordIndex = recordIndexes[i]!;
    const length = valueLengths[i]!;
    if (typeof topic !== "string" || !TOPIC.test(topic)) return undefined;
    if (key !== null && typeof key !== "string") return undefined;
    if (recordIndex < -1 || recordIndex >= recordCount || length < -1 || at + Math.max(length, 0) > data.byteLength) return undefined;
    const copy = headers === null ? {} : checkHeaders(headers[i]);
    if (copy === undefined) return undefined;
    emitted[i] = { topic, key, value: length === -1 ? null : data.subarray(at, at + length), headers: copy, recordIndex };
    at += Math.max(length, 0);
  }
  return emitted;
}

function checkHeaders(headers: unknown): Record<string, string> | undefined {
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) return undefined;
  const copy: Record<string, string> = {};
  for (const [name, header] of Object.entries(headers)) {
    if (typeof header !== "string") return undefined;
    copy[name] = header;
  }
  return copy;
}
