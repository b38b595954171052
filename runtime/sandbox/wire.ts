// The shapes of the data that crosses the isolate boundary. Imported by both the host and the
// in-isolate harness, so it holds types and constants only, and imports nothing with code.
import type { FunctionInfo, LogLevel, RecordOutcome } from "./types.js";

/** The bundle assigns its module namespace to this global; the definition is `__eddyModule.default`. */
export const BUNDLE_GLOBAL_NAME = "__eddyModule";

/** The harness script leaves its install function here; install() deletes it. */
export const INSTALL_GLOBAL_NAME = "__eddyInstall";

/** A record without its value; values travel packed in one buffer (see WireBatch). */
export interface WireRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  headers: Record<string, string>;
  valueOffset: number;
  /** -1 when the value is null. */
  valueLength: number;
}

/**
 * The records of one invocation. Values are packed into one buffer because copying a view copies
 * its whole backing buffer, and kafkajs values are views into the fetch response.
 */
export interface WireBatch {
  records: WireRecord[];
  data: Uint8Array;
}

export interface WireEmit {
  topic: string;
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
  recordIndex: number;
}

/** `null` outcome: the record had not finished when the invocation was cut short (timeout). */
export interface WireResult {
  outcomes: (RecordOutcome | null)[];
  emitted: WireEmit[];
}

export type WireLoadResult = { ok: true; info: FunctionInfo } | { ok: false; problems: string[] };

/** Host functions the harness receives at install (isolated-vm Callbacks: arguments are copied, results ignored). */
export interface HostFunctions {
  log(level: LogLevel, message: string): void;
  setTimer(id: number, delayMs: number): void;
  clearTimer(id: number): void;
  settle(invocationId: number, result: WireResult): void;
}

/** What install() returns to the host (as a Reference; function code never sees it). */
export interface HarnessApi {
  /** Reads `globalThis.__eddyModule.default` after the bundle ran. */
  load(): WireLoadResult;
  /** Starts an invocation; its result arrives through HostFunctions.settle. */
  invoke(invocationId: number, batch: WireBatch, attempt: number, stopOnFailure: boolean): void;
  fireTimer(timerId: number): void;
  /** Ends an invocation early and returns what it finished so far (null if it already settled). */
  collect(invocationId: number): WireResult | null;
}

export interface HarnessEnvironment {
  env: Record<string, string>;
  function: { name: string; version: number };
}
