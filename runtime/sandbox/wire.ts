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
  /** Log lines dropped over the per-invocation limit since the last result reported them. */
  logsDropped?: number;
}

export type WireLoadResult = { ok: true; info: FunctionInfo } | { ok: false; problems: string[] };

/** A URL as the host's WHATWG parser sees it (the isolate's `URL` is backed by it). */
export interface WireUrl {
  href: string;
  origin: string;
  protocol: string;
  username: string;
  password: string;
  host: string;
  hostname: string;
  port: string;
  pathname: string;
  search: string;
  hash: string;
}

/** The URL parts the isolate may set; the host applies the WHATWG setter. */
export const URL_SETTABLE_PARTS = ["href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"] as const;
export type UrlPart = (typeof URL_SETTABLE_PARTS)[number];

/** What ctx.fetch asks the host to do. The host alone decides whether the URL may be reached. */
export interface WireFetchRequest {
  url: string;
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  redirect: "follow" | "manual" | "error";
}

/** The codes a fetch can fail with; see errors.ts for what each means. */
export type FetchErrorCode =
  | "EDDY_SANDBOX_EGRESS_DENIED"
  | "EDDY_SANDBOX_FETCH_FAILED"
  | "EDDY_SANDBOX_FETCH_TIMEOUT"
  | "EDDY_SANDBOX_FETCH_TOO_LARGE"
  | "EDDY_SANDBOX_LIMIT";

export type WireFetchResult =
  | { ok: true; status: number; statusText: string; headers: [string, string][]; url: string; redirected: boolean; body: Uint8Array }
  | { ok: false; code: FetchErrorCode; message: string; retriable: boolean };

/**
 * Host functions the harness receives at install (isolated-vm Callbacks: arguments and results are
 * copied). log, setTimer, clearTimer, settle and fetch are fire-and-forget; parseUrl, setUrlPart and
 * randomBytes answer synchronously.
 */
export interface HostFunctions {
  log(level: LogLevel, message: string): void;
  setTimer(id: number, delayMs: number): void;
  clearTimer(id: number): void;
  settle(invocationId: number, result: WireResult): void;
  fetch(fetchId: number, request: WireFetchRequest): void;
  /** null when the input is not a valid URL. */
  parseUrl(input: string, base: string | null): WireUrl | null;
  /** The URL after the WHATWG setter of `part` ran; null when href is not a valid URL. */
  setUrlPart(href: string, part: UrlPart, value: string): WireUrl | null;
  /** Bytes from the host's CSPRNG. */
  randomBytes(length: number): Uint8Array;
}

/** What install() returns to the host (as a Reference; function code never sees it). */
export interface HarnessApi {
  /** Reads `globalThis.__eddyModule.default` after the bundle ran. */
  load(): WireLoadResult;
  /** Starts an invocation; its result arrives through HostFunctions.settle. */
  invoke(invocationId: number, batch: WireBatch, attempt: number, stopOnFailure: boolean): void;
  fireTimer(timerId: number): void;
  /** Settles the promise of a ctx.fetch. */
  fetchSettled(fetchId: number, result: WireFetchResult): void;
  /** Ends an invocation early and returns what it finished so far (null if it already settled). */
  collect(invocationId: number): WireResult | null;
}

/** The limits the harness enforces inside the isolate (the host enforces them again; see limits.ts). */
export interface IsolateLimits {
  maxEmitRecordBytes: number;
  maxEmitBytesPerInvocation: number;
  maxEmitsPerInvocation: number;
  maxLogLinesPerInvocation: number;
  maxPendingTimers: number;
  maxFetchesPerInvocation: number;
  maxFetchBodyBytes: number;
}

/** Topics ctx.emit refuses: Eddy's own (registry, `<prefix>*`) and Kafka's internal ones. */
export type { ReservedTopics } from "../config/reserved-topics.js";
import type { ReservedTopics } from "../config/reserved-topics.js";

export interface HarnessEnvironment {
  env: Record<string, string>;
  function: { name: string; version: number };
  limits: IsolateLimits;
  reservedTopics: ReservedTopics;
}
