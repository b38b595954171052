import { fileURLToPath } from "node:url";
import type { FunctionRecord } from "../config/function-record.js";
import { runOnceInChild } from "../sandbox/child-once.js";
import type { serializeForIpc } from "../sandbox/inspect-process.js";
import type { InvocationResult, LogLevel, SandboxRecord } from "../sandbox/function-sandbox.js";
import { httpError } from "./errors.js";

const DRY_RUN_CHILD = fileURLToPath(new URL("./dry-run-child.js", import.meta.url));
/** Time to start the child and load the bundle, on top of the function's own timeoutMs. */
const LOAD_ALLOWANCE_MS = 15_000;

export interface DryRunLog {
  level: LogLevel;
  message: string;
  at: string;
}

export interface DryRunRequest {
  code: string;
  memoryMb: number;
  env: Record<string, string>;
  function: { name: string; version: number };
  timeoutMs: number;
  records: SandboxRecord[];
  egress: string[];
  topicPrefix: string;
  /** The function has `state`: ctx.state works and reads every key as absent (a dry run touches no state). */
  state: boolean;
  /** The function's record and Eddy's secret key (base64), for the child to open its secrets into ctx.env. */
  secrets?: { record: FunctionRecord; key: string };
}

export type DryRunReply =
  | { ok: true; result: InvocationResult; logs: DryRunLog[] }
  | { ok: false; error: ReturnType<typeof serializeForIpc>; logs: DryRunLog[] };

/** One event of an invoke request, already validated (api-schemas.ts). */
export interface InvokeEvent {
  key?: string | null;
  value: unknown;
  encoding?: "base64";
  headers?: Record<string, string>;
  topic?: string;
}

/** An emitted record as the API shows it: text when the bytes are UTF-8, else base64. */
export interface DryRunEmit {
  topic: string;
  key: string | null;
  value: string | null;
  encoding?: "base64";
  headers: Record<string, string>;
}

export interface DryRunResponse {
  ok: boolean;
  error?: { name: string; message: string; code?: string; stack?: string };
  emitted: DryRunEmit[];
  logs: DryRunLog[];
  durationMs: number;
}

/** An event's value as bytes: strings as UTF-8 (or base64 when told), anything else as JSON, null as null. */
export function eventBytes(event: InvokeEvent): Uint8Array | null {
  if (event.value === null) return null;
  if (typeof event.value === "string") return Buffer.from(event.value, event.encoding === "base64" ? "base64" : "utf8");
  return Buffer.from(JSON.stringify(event.value), "utf8");
}

export function toSandboxRecords(record: FunctionRecord, events: InvokeEvent[], now = Date.now()): SandboxRecord[] {
  return events.map((event, index) => ({
    topic: event.topic ?? record.config.topics[0]!,
    partition: 0,
    offset: String(index),
    timestamp: now,
    key: event.key ?? null,
    value: valueBytes(event, index),
    headers: { ...event.headers },
  }));
}

/**
 * eventBytes, with a value JSON.stringify cannot write (a RangeError when nested thousands deep; the API
 * bounds depth first, json-limits.ts) answered as the client's mistake, naming the event, never as a 500.
 */
function valueBytes(event: InvokeEvent, index: number): Uint8Array | null {
  try {
    return eventBytes(event);
  } catch (error) {
    const problem = { path: `events.${index}.value`, message: `expected a value that can be written as JSON (${(error as Error).message})` };
    throw httpError("EDDY_BAD_REQUEST", `invalid request body: ${problem.path}: ${problem.message}`, [problem]);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function showValue(value: Uint8Array | null): { value: string | null; encoding?: "base64" } {
  if (value === null) return { value: null };
  try {
    return { value: utf8.decode(value) };
  } catch {
    return { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"), encoding: "base64" };
  }
}

/**
 * Runs the function once over `events` in a child process with the function's own limits, and reports
 * what it would have emitted and logged. Nothing is produced and no offset moves.
 */
export async function dryRun(record: FunctionRecord, events: InvokeEvent[], topicPrefix: string, secretKey?: Buffer): Promise<DryRunResponse> {
  const request: DryRunRequest = {
    code: record.code,
    memoryMb: record.config.memoryMb,
    env: record.config.env,
    function: { name: record.name, version: record.version },
    timeoutMs: record.config.timeoutMs,
    records: toSandboxRecords(record, events),
    egress: record.config.egress,
    topicPrefix,
    state: record.config.state !== undefined,
    ...(record.secrets && secretKey ? { secrets: { record, key: secretKey.toString("base64") } } : {}),
  };
  const reply = await runChild(request, record.config.timeoutMs + LOAD_ALLOWANCE_MS);
  if (!reply.ok) {
    const { error } = reply;
    return { ok: false, error: { name: "EddyError", message: error.message, code: error.code }, emitted: [], logs: reply.logs, durationMs: 0 };
  }
  const { result } = reply;
  const failed = result.outcomes.find((o) => o.status === "failed");
  return {
    ok: failed === undefined,
    ...(failed?.status === "failed"
      ? { error: { name: failed.error.name, message: failed.error.message, code: failed.error.code, stack: failed.error.stack } }
      : {}),
    emitted: result.emitted.map((e) => ({ topic: e.topic, key: e.key, ...showValue(e.value), headers: e.headers })),
    logs: reply.logs,
    durationMs: Math.round(result.durationMs * 100) / 100,
  };
}

async function runChild(request: DryRunRequest, limitMs: number): Promise<DryRunReply> {
  const outcome = await runOnceInChild<DryRunReply>(DRY_RUN_CHILD, request, limitMs);
  if (outcome.kind === "reply") return outcome.reply;
  // The function can take its process down (a catastrophic isolate error): that is its result, not Eddy's failure.
  const message = outcome.kind === "timeout" ? `the dry run took longer than ${limitMs} ms` : `the dry run's process ended (${outcome.detail})`;
  return { ok: false, error: { code: "EDDY_INVOKE_CRASHED", message }, logs: [] };
}
