// The shapes of the data that crosses the isolate boundary. Imported by both the host and the
// in-isolate harness, so it holds types and constants only, and imports nothing with code.
import type { FunctionInfo, LogLevel, RecordOutcome } from "./types.js";

/** The bundle assigns its module namespace to this global; the definition is `__eddyModule.default`. */
export const BUNDLE_GLOBAL_NAME = "__eddyModule";

/** The harness script leaves its install function here; install() deletes it. */
export const INSTALL_GLOBAL_NAME = "__eddyInstall";

/**
 * The records of one invocation, as columns rather than one object per record: isolated-vm copies
 * arguments with V8's serializer, which pays for every object and field, so a batch of 100 small
 * records cost the host about 2.3 µs a record as objects and 0.6 µs as columns (measured with
 * isolated-vm 5, see docs/benchmarks.md "Sandbox overhead"). `unpackBatch` (isolate/unpack-batch.ts)
 * turns it back into records inside the isolate. Record i is:
 * - topic `topics[topicIndex?.[i] ?? 0]`, partition `partitions[i]`, timestamp `timestamps[i]`;
 * - offset: the i-th of the comma-separated decimal `offsets`;
 * - key: `keys` sliced by `keyLengths` (UTF-16 code units, -1 for null), or null for all when `keys` is null;
 * - value: `data` sliced at `valueOffsets[i]` for `valueLengths[i]` bytes (-1 for null). Values are
 *   packed into one buffer because copying a view copies its whole backing buffer, and kafkajs
 *   values are views into the fetch response;
 * - headers: `headers[i]`, or `{}` for all when `headers` is null.
 */
export interface WireBatch {
  count: number;
  topics: string[];
  /** null when every record is on `topics[0]`. */
  topicIndex: Uint16Array | null;
  partitions: Int32Array;
  offsets: string;
  timestamps: Float64Array;
  keys: string | null;
  keyLengths: Int32Array | null;
  data: Uint8Array;
  valueOffsets: Int32Array;
  valueLengths: Int32Array;
  headers: Record<string, string>[] | null;
}

export interface WireEmit {
  topic: string;
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
  recordIndex: number;
}

/**
 * An invocation's emits as they cross out of the isolate (packEmits): a column per field, the
 * values one after another in `data`, which shares its buffer with the numeric columns.
 */
export interface WireEmits {
  topics: string[];
  keys: (string | null)[];
  recordIndexes: Int32Array;
  /** Each value's length in `data`, -1 for a null value. */
  valueLengths: Int32Array;
  /** Each emit's headers; null when no emit has any. */
  headers: Record<string, string>[] | null;
  data: Uint8Array;
}

/**
 * The state of the invocation's own keys, sent with its records (JSON text, null for a key with none),
 * so that ctx.state.get() of a record's key needs no call back to the host (a synchronous callback
 * costs about 20 µs); other keys are asked for through HostFunctions.stateGet.
 */
export type WireStateValues = Record<string, string | null>;

/** A ctx.state write of a record that succeeded: `value` is JSON text, null for a delete. */
export interface WireStateWrite {
  key: string;
  value: string | null;
  /** Which input record's handling wrote it; -1 for handleBatch. */
  recordIndex: number;
}

/**
 * `null` outcome: the record had not finished when the invocation was cut short (timeout). The
 * harness sends `outcomes` as the record count when every record succeeded (the common case, and
 * one number crosses faster than an array); `checkResult` expands it.
 */
export interface WireResult {
  outcomes: (RecordOutcome | null)[];
  emitted: WireEmit[];
  /** ctx.state writes of the records that succeeded, in order; absent when there are none. */
  stateWrites?: WireStateWrite[];
  /** Log lines dropped over the per-invocation limit since the last result reported them. */
  logsDropped?: number;
}

/** How `handle` runs an invocation's records (InvokeOptions.order). */
export type InvocationOrder = "sequential" | "by-key" | "none";

/** What the harness sends: a WireResult whose `outcomes` may be the record count (all succeeded), its emits packed (null: none). */
export type SentResult = Omit<WireResult, "outcomes" | "emitted"> & { outcomes: WireResult["outcomes"] | number; emitted: WireEmits | null };

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
  /** The id of the invocation whose ctx.fetch this is (its trace gets the client span). */
  invocation: number;
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
 * copied). log, setTimer, clearTimer, settle and fetch are fire-and-forget; parseUrl, setUrlPart,
 * randomBytes and stateGet answer synchronously.
 */
export interface HostFunctions {
  /** `invocation`: the id of the invocation whose ctx.log wrote the line; absent for console.*, which no invocation owns. */
  log(level: LogLevel, message: string, invocation?: number): void;
  setTimer(id: number, delayMs: number): void;
  clearTimer(id: number): void;
  settle(invocationId: number, result: SentResult): void;
  fetch(fetchId: number, request: WireFetchRequest): void;
  /** null when the input is not a valid URL. */
  parseUrl(input: string, base: string | null): WireUrl | null;
  /** The URL after the WHATWG setter of `part` ran; null when href is not a valid URL. */
  setUrlPart(href: string, part: UrlPart, value: string): WireUrl | null;
  /** Bytes from the host's CSPRNG. */
  randomBytes(length: number): Uint8Array;
  /** ctx.state: the JSON text of `key` in the partition of invocation `invocationId`, or null when it has none. */
  stateGet(invocationId: number, key: string): string | null;
}

/** What install() returns to the host (as a Reference; function code never sees it). */
export interface HarnessApi {
  /** Reads `globalThis.__eddyModule.default` after the bundle ran. */
  load(): WireLoadResult;
  /** Starts an invocation; its result arrives through HostFunctions.settle. */
  invoke(invocationId: number, batch: WireBatch, attempt: number, stopOnFailure: boolean, order: InvocationOrder, state: WireStateValues | null): void;
  fireTimer(timerId: number): void;
  /** Settles the promises of ctx.fetch calls: the answers that arrived in one turn of the host's event loop, in one call. */
  fetchesSettled(results: [fetchId: number, result: WireFetchResult][]): void;
  /** Ends an invocation early and returns what it finished so far (null if it already settled). */
  collect(invocationId: number): SentResult | null;
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
  maxStateValueBytes: number;
}

/** Topics ctx.emit refuses: Eddy's own (registry, `<prefix>*`) and Kafka's internal ones. */
export type { ReservedTopics } from "../config/reserved-topics.js";
import type { ReservedTopics } from "../config/reserved-topics.js";

export interface HarnessEnvironment {
  env: Record<string, string>;
  function: { name: string; version: number };
  limits: IsolateLimits;
  reservedTopics: ReservedTopics;
  /** The definition has `state`: ctx.state works (otherwise it throws EDDY_SANDBOX_STATE_UNAVAILABLE). */
  state: boolean;
}
