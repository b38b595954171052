import type { EventRecord } from "../../sdk/event.js";
import type { SerializedError } from "./serialized-error.js";

/** One input record of an invocation: the raw record the SDK builds its event from. */
export type SandboxRecord = EventRecord;

/** A record the function emitted, produced only when its record (or, for handleBatch, the invocation) succeeded. */
export interface EmittedRecord {
  topic: string;
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
  /** Which input record's handling emitted it; -1 for handleBatch. */
  recordIndex: number;
}

/** A ctx.state write of a record that succeeded: `value` is JSON text, null for a delete. */
export interface StateWrite {
  key: string;
  value: string | null;
  /** Which input record's handling wrote it; -1 for handleBatch. */
  recordIndex: number;
}

/** What ctx.state reads of the invocation's partition: the JSON text of `key`, or undefined when it has none. */
export interface StateReader {
  get(key: string): string | undefined;
}

/** What happened to one input record. "skipped": not attempted because an earlier record of the batch failed. */
export type RecordOutcome = { status: "ok" } | { status: "failed"; error: SerializedError } | { status: "skipped" };

export interface InvocationResult {
  /** One per input record, in order. */
  outcomes: RecordOutcome[];
  /** Only the emits of records (or handleBatch invocations) that succeeded. */
  emitted: EmittedRecord[];
  /** ctx.state writes of the records that succeeded, in order; absent when there are none. */
  stateWrites?: StateWrite[];
  durationMs: number;
  /** Log lines dropped over maxLogLinesPerInvocation (also reported as one warn line); absent when none. */
  logsDropped?: number;
}

/** A loaded function's identity and configuration as its definition declares them. */
export interface FunctionInfo {
  name: string;
  topics: string[];
  handler: "handle" | "handleBatch";
  /** The definition's other fields, JSON-cloned (functions dropped). */
  config: Record<string, unknown>;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** The trace and span a log line was written in, when tracing is on. */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

/** The client span of one ctx.fetch: `headers` carry its context to the server called. */
export interface FetchSpan {
  headers: Record<string, string>;
  end(result: { status?: number; error?: string }): void;
}

/**
 * An invocation's trace as the sandbox uses it (runtime/telemetry implements it; absent when tracing
 * is off): the ids for the function's log lines, and a client span for each ctx.fetch.
 */
export interface SandboxTrace {
  readonly ids: TraceIds;
  startFetch(method: string, url: string): FetchSpan;
}
