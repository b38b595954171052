import { performance } from "node:perf_hooks";
import { EddyError, isEddyError } from "../eddy-error.js";
import { log } from "../log.js";
import { EgressPolicy } from "./egress.js";
import type { SandboxErrorCode } from "./errors.js";
import { harnessScript } from "./harness-script.js";
import { HostBridge, type SandboxFetcher } from "./host-bridge.js";
import { describeHostError, IsolateRuntime, isTimeoutError, type PendingInvocation, type RuntimeHandlers, type RuntimeSpec } from "./isolate-runtime.js";
import { reservedTopicsFor, resolveLimits, type SandboxLimits } from "./limits.js";
import { packRecords } from "./pack-records.js";
import { blameOnReset } from "./reset-blame.js";
import { checkResult, type ResultRules } from "./result-check.js";
import { sandboxFailure, type SerializedError } from "./serialized-error.js";
import type { EmittedRecord, FunctionInfo, InvocationResult, LogLevel, RecordOutcome, SandboxRecord, SandboxTrace, StateReader, TraceIds } from "./types.js";
import type { HarnessEnvironment, InvocationOrder, ReservedTopics, WireResult, WireStateValues } from "./wire.js";

export type { SerializedError } from "./serialized-error.js";
export type { InvocationOrder } from "./wire.js";
export type { EmittedRecord, FunctionInfo, InvocationResult, LogLevel, RecordOutcome, SandboxRecord, SandboxTrace, FetchSpan, StateReader, StateWrite, TraceIds } from "./types.js";
export { DEFAULT_SANDBOX_LIMITS, MAX_BUNDLE_BYTES, type SandboxLimits } from "./limits.js";

export interface FunctionSandboxOptions {
  /** A bundle from bundleFunction (or the CLI's equivalent). */
  code: string;
  memoryMb: number;
  env: Record<string, string>;
  function: { name: string; version: number };
  /** A function's log line; `trace` when it was written in a traced invocation. */
  onLog: (level: LogLevel, message: string, trace?: TraceIds) => void;
  /** How long the bundle's top-level code may run at load. Default 10000. */
  loadTimeoutMs?: number;
  /** What ctx.fetch may reach (SPEC §3 `egress`): `host` (any port) or `host:port`. Default []: nothing. */
  egress?: readonly string[];
  /**
   * The runtime's topic prefix (EddyConfig.topicPrefix). ctx.emit refuses `<topicPrefix>*`,
   * `eddy.functions` and Kafka's `__*` topics. Default "eddy.".
   */
  topicPrefix?: string;
  /** Overrides of DEFAULT_SANDBOX_LIMITS (emits, logs, timers, fetch, state values). */
  limits?: Partial<SandboxLimits>;
  /** The definition has `state`: ctx.state works, reading through InvokeOptions.state. Default false. */
  state?: boolean;
  /** Answers ctx.fetch instead of the network, after the egress check (eddy/testing). Default: the network. */
  fetch?: SandboxFetcher;
}

export interface InvokeOptions {
  /** 1-based, as ctx.attempt. */
  attempt: number;
  timeoutMs: number;
  /** Default true: with `handle`, the records after the first failed one are "skipped", not run. */
  stopOnFailure?: boolean;
  /**
   * How `handle` runs the records: "sequential" (default) one after another; "by-key" records of
   * different keys concurrently, each key's in order; "none" all concurrently. With stopOnFailure
   * a failure skips the later records of its key only.
   */
  order?: InvocationOrder;
  /** The invocation's trace, when tracing is on: its ids go on the function's log lines, and each ctx.fetch gets a client span. */
  trace?: SandboxTrace;
  /** Where ctx.state reads the invocation's partition (with `state`); absent, every key reads as absent. */
  state?: StateReader;
}

/** How `handle` runs an invocation's records under a function's `ordering` (SPEC §3). */
export function invocationOrder(ordering: string | undefined): InvocationOrder {
  return ordering === "key" ? "by-key" : ordering === "none" ? "none" : "sequential";
}

// How long a timed-out isolate gets to hand over what it finished before it is disposed anyway.
const COLLECT_WAIT_MS = 100;

/**
 * One function's sandbox in a worker: one isolate (heap limit memoryMb), one context and the
 * compiled bundle, reused across invocations. Records cross into the isolate once per invocation
 * and results come back once. A timeout or heap overflow fails the invocation and disposes the
 * isolate; the next invocation builds a new one. Invocations may overlap (they share the isolate).
 *
 * @example
 * ```ts
 * const sandbox = await FunctionSandbox.create({ code, memoryMb: 128, env: {}, function: { name: "echo", version: 1 }, onLog });
 * const { outcomes, emitted } = await sandbox.invoke(records, { attempt: 1, timeoutMs: 30_000 });
 * sandbox.dispose();
 * ```
 */
export class FunctionSandbox {
  readonly #options: FunctionSandboxOptions;
  readonly #spec: RuntimeSpec;
  readonly #info: FunctionInfo;
  readonly #handlers: RuntimeHandlers;
  readonly #limits: SandboxLimits;
  readonly #reserved: ReservedTopics;
  readonly #bridge: HostBridge;
  #runtime: IsolateRuntime | undefined;
  #building: Promise<IsolateRuntime> | undefined;
  #nextInvocationId = 0;
  #disposed = false;

  private constructor(
    options: FunctionSandboxOptions,
    spec: RuntimeSpec,
    runtime: IsolateRuntime,
    info: FunctionInfo,
    handlers: RuntimeHandlers,
    policy: { limits: SandboxLimits; reserved: ReservedTopics; bridge: HostBridge },
  ) {
    this.#options = options;
    this.#spec = spec;
    this.#runtime = runtime;
    this.#info = info;
    this.#handlers = handlers;
    this.#limits = policy.limits;
    this.#reserved = policy.reserved;
    this.#bridge = policy.bridge;
  }

  /**
   * Compiles and runs the bundle once and loads its default export.
   *
   * @throws EddyError `EDDY_SANDBOX_INVALID_FUNCTION` (userError) when the default export is not a
   *   definition with name, topics and a handle/handleBatch function, loading the bundle fails, or
   *   an `egress` entry is not `host` or `host:port`.
   */
  static async create(options: FunctionSandboxOptions): Promise<FunctionSandbox> {
    const limits = resolveLimits(options.limits);
    const egress = EgressPolicy.from(options.egress);
    const reserved = reservedTopicsFor(options.topicPrefix);
    // Its changelog holds what ctx.state wrote: an emit there would change the state behind the store's back.
    if (options.state === true) reserved.changelogs = [`${options.function.name}.state`];
    const spec: RuntimeSpec = {
      harness: await harnessScript(),
      code: options.code,
      memoryMb: options.memoryMb,
      environment: harnessEnvironment(options, limits, reserved),
      loadTimeoutMs: options.loadTimeoutMs ?? 10_000,
      maxConcurrentFetches: limits.maxConcurrentFetches,
    };
    let sandbox: FunctionSandbox | undefined;
    const bridge = new HostBridge(
      limits,
      egress,
      options.function.name,
      options.onLog,
      (runtime, error) => {
        if (sandbox !== undefined) sandbox.#onIsolateError(runtime, error, undefined);
      },
      options.fetch,
    );
    // settle goes through `sandbox`, which exists once the first runtime has loaded.
    const handlers: RuntimeHandlers = {
      log: (runtime, level, message, invocation) => bridge.log(runtime, level, message, invocation),
      settle: (runtime, id, result) => {
        if (sandbox !== undefined) sandbox.#settle(runtime, id, result);
      },
      setTimer: (runtime, id, delayMs) => bridge.setTimer(runtime, id, delayMs),
      clearTimer: (runtime, id) => bridge.clearTimer(runtime, id),
      fetch: (runtime, id, request) => bridge.fetch(runtime, id, request),
      stateGet: (runtime, id, key) => {
        const pending = typeof id === "number" && typeof key === "string" && !runtime.disposed ? runtime.inflight.get(id) : undefined;
        return pending?.state?.get(key as string) ?? null;
      },
      catastrophe: (message) => {
        // isolated-vm's documented advice: V8 lost control of the isolate and its resources are
        // unrecoverable, so the process must end; the worker is restarted and nothing is lost (SPEC §4, §5).
        // The records in flight are named, since they will be redelivered to the restarted worker.
        const inFlight = sandbox === undefined ? [] : sandbox.#positionsInFlight();
        log.fatal({ function: options.function.name, message, inFlight }, "isolated-vm reported a catastrophic error; aborting");
        process.abort();
      },
    };
    const { runtime, info } = await IsolateRuntime.create(spec, handlers);
    sandbox = new FunctionSandbox(options, spec, runtime, info, handlers, { limits, reserved, bridge });
    return sandbox;
  }

  /** The limits this sandbox enforces (defaults with the create() overrides). */
  get limits(): Readonly<SandboxLimits> {
    return { ...this.#limits };
  }

  /** The loaded definition's name, topics, handler kind and other configuration. */
  describe(): FunctionInfo {
    const info = this.#info;
    return { name: info.name, topics: [...info.topics], handler: info.handler, config: structuredClone(info.config) };
  }

  /**
   * Runs the handler over `records`. Never rejects for anything the function does: every record
   * gets an outcome. Rejects only when called after dispose().
   */
  async invoke(records: readonly SandboxRecord[], options: InvokeOptions): Promise<InvocationResult> {
    if (this.#disposed) throw new EddyError("EDDY_SANDBOX_DISPOSED", `invoke() after dispose() (function ${this.#options.function.name})`);
    const startedAt = performance.now();
    if (records.length === 0) return { outcomes: [], emitted: [], durationMs: 0 };
    let runtime: IsolateRuntime;
    try {
      runtime = await this.#ready();
    } catch (error) {
      const failure = isEddyError(error)
        ? sandboxFailure(error.code as SandboxErrorCode, error.message)
        : sandboxFailure("EDDY_SANDBOX_INVALID_FUNCTION", `rebuilding the isolate failed: ${describeHostError(error)}`);
      return { outcomes: records.map(() => ({ status: "failed", error: failure })), emitted: [], durationMs: performance.now() - startedAt };
    }
    const id = ++this.#nextInvocationId;
    const batch = packRecords(records);
    return new Promise<InvocationResult>((resolve) => {
      const timeoutMs = Math.max(1, Math.ceil(options.timeoutMs));
      const pending: PendingInvocation = {
        id,
        recordCount: records.length,
        records,
        stopOnFailure: options.stopOnFailure ?? true,
        startedAt,
        timeoutMs,
        deadline: performance.now() + timeoutMs,
        deadlineTimer: undefined,
        trace: options.trace,
        state: options.state,
        resolve,
      };
      this.#bridge.invocationStarted(runtime);
      runtime.inflight.set(id, pending);
      // The CPU timeout below cannot see time spent awaiting (a promise that never settles, or a
      // loop after an await of a timer), so the host keeps its own deadline.
      // This deadline does not know who is to blame (it may be waiting behind another invocation's loop); #reset works it out.
      pending.deadlineTimer = setTimeout(() => void this.#reset(runtime, "timeout"), timeoutMs);
      runtime.invoke(id, batch, options.attempt, pending.stopOnFailure, options.order ?? "sequential", timeoutMs, ownKeyState(records, options.state)).catch((error: unknown) => this.#onIsolateError(runtime, error, pending));
    });
  }

  /** Disposes the isolate. Invocations in flight end as failed (EDDY_SANDBOX_RESET); invoke() afterwards throws. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const runtime = this.#runtime;
    this.#runtime = undefined;
    if (runtime !== undefined) this.#endRuntime(runtime, () => sandboxFailure("EDDY_SANDBOX_RESET", "the sandbox was disposed during the invocation"));
  }

  async #ready(): Promise<IsolateRuntime> {
    if (this.#runtime !== undefined) return this.#runtime;
    this.#building ??= IsolateRuntime.create(this.#spec, this.#handlers)
      .then(({ runtime }) => {
        if (this.#disposed) {
          runtime.dispose();
          throw new EddyError("EDDY_SANDBOX_DISPOSED", `the sandbox of ${this.#options.function.name} was disposed`);
        }
        this.#runtime = runtime;
        return runtime;
      })
      .finally(() => {
        this.#building = undefined;
      });
    return this.#building;
  }

  /** "topic/partition@offset" of the records in flight (at most 50), for the log line before an abort. */
  #positionsInFlight(): string[] {
    const positions: string[] = [];
    for (const pending of this.#runtime?.inflight.values() ?? []) {
      for (const record of pending.records) if (positions.length < 50) positions.push(`${record.topic}/${record.partition}@${record.offset}`);
    }
    return positions;
  }

  #settle(runtime: IsolateRuntime, id: unknown, raw: unknown): void {
    const pending = typeof id === "number" ? runtime.inflight.get(id) : undefined;
    // During a reset, invocations that finish before the isolate goes keep their results.
    if (pending === undefined || runtime.disposed) return;
    const checked = checkResult(raw, pending.recordCount, this.#resultRules(pending));
    if ("problem" in checked) {
      void this.#reset(runtime, "invalid", { id: pending.id, problem: checked.problem });
      return;
    }
    this.#finish(runtime, pending, toResult(pending, checked, undefined));
  }

  #resultRules(pending: PendingInvocation): ResultRules {
    return { limits: this.#limits, reserved: this.#reserved, stopOnFailure: pending.stopOnFailure };
  }

  #finish(runtime: IsolateRuntime, pending: PendingInvocation, result: InvocationResult): void {
    clearTimeout(pending.deadlineTimer);
    runtime.inflight.delete(pending.id);
    const dropped = this.#bridge.invocationEnded(runtime, result.logsDropped ?? 0);
    if (dropped > 0) result.logsDropped = dropped;
    else delete result.logsDropped;
    pending.resolve(result);
  }

  /** `own`: the invocation whose own start call failed (undefined for timer and fetch callbacks). */
  #onIsolateError(runtime: IsolateRuntime, error: unknown, own: PendingInvocation | undefined): void {
    if (runtime.disposed) return;
    const diedHere = runtime.isolate.isDisposed;
    // A call that timed out or died while it ran proves its invocation did it; mark it even when a
    // reset is already under way (it may have started from another invocation's deadline).
    if (own !== undefined && runtime.inflight.has(own.id)) {
      if (isTimeoutError(error)) own.guilty = "timeout";
      else if (diedHere && describeHostError(error).includes("during execution")) own.guilty = "memory";
    }
    if (runtime.resetting) return;
    if (diedHere) {
      // Every call in flight fails when the isolate dies: let them all arrive, so the one that was running is marked.
      setImmediate(() => void this.#reset(runtime, "memory"));
    } else if (isTimeoutError(error)) {
      void this.#reset(runtime, "timeout");
    } else {
      // The harness catches everything the function throws, so what rejects a call is a promise
      // the function rejected and never handled in the same turn; Node would crash, Eddy logs it.
      this.#options.onLog("error", `Unhandled promise rejection: ${describeHostError(error)}`);
    }
  }

  /**
   * Ends an isolate generation after a timeout, a heap overflow or an unusable result: keeps what
   * the invocations in flight finished (if the isolate still answers), fails the rest (see
   * reset-blame.ts for who gets which failure), disposes the isolate. The next invoke() builds a new one.
   */
  async #reset(runtime: IsolateRuntime, cause: "timeout" | "memory" | "invalid", invalid?: { id: number; problem: string }): Promise<void> {
    if (runtime.disposed || runtime.resetting) return;
    const now = performance.now();
    runtime.resetting = true;
    if (this.#runtime === runtime) this.#runtime = undefined;
    const partial = new Map<number, WireResult>();
    let responsive = false;
    if (cause === "timeout" && !runtime.isolate.isDisposed) {
      responsive = true;
      for (const id of [...runtime.inflight.keys()]) {
        const pending = runtime.inflight.get(id);
        if (pending === undefined) continue;
        const raw = await runtime.collect(id, COLLECT_WAIT_MS);
        if (raw === undefined) {
          responsive = false;
          break;
        }
        if (raw === null) continue;
        const checked = checkResult(raw, pending.recordCount, this.#resultRules(pending));
        if (!("problem" in checked)) partial.set(id, checked);
      }
    }
    // An isolate that died on its own while we waited ran out of memory.
    const finalCause = cause === "timeout" && runtime.isolate.isDisposed ? "memory" : cause;
    const failures = blameOnReset([...runtime.inflight.values()], { cause: finalCause, invalid, responsive, now, memoryMb: this.#spec.memoryMb });
    this.#endRuntime(runtime, (pending) => failures.get(pending.id) ?? sandboxFailure("EDDY_SANDBOX_RESET", "the isolate was rebuilt under this invocation"), partial);
    log.warn({ function: this.#options.function.name, cause: finalCause }, "function isolate disposed; it is rebuilt on the next invocation");
  }

  #endRuntime(runtime: IsolateRuntime, failure: (pending: PendingInvocation) => SerializedError, partial = new Map<number, WireResult>()): void {
    runtime.resetting = true;
    runtime.dispose();
    for (const pending of [...runtime.inflight.values()]) {
      this.#finish(runtime, pending, toResult(pending, partial.get(pending.id), failure(pending)));
    }
  }
}

/** The state of the records' own keys, to cross with them (wire.ts WireStateValues); null without state. */
function ownKeyState(records: readonly SandboxRecord[], state: StateReader | undefined): WireStateValues | null {
  if (state === undefined) return null;
  const values: WireStateValues = Object.create(null) as WireStateValues;
  for (const { key } of records) if (key !== null && !(key in values)) values[key] = state.get(key) ?? null;
  return values;
}

/** What the harness is told about the function and its limits at install. */
function harnessEnvironment(options: FunctionSandboxOptions, limits: SandboxLimits, reserved: ReservedTopics): HarnessEnvironment {
  return {
    env: { ...options.env },
    function: { name: options.function.name, version: options.function.version },
    limits: {
      maxEmitRecordBytes: limits.maxEmitRecordBytes,
      maxEmitBytesPerInvocation: limits.maxEmitBytesPerInvocation,
      maxEmitsPerInvocation: limits.maxEmitsPerInvocation,
      maxLogLinesPerInvocation: limits.maxLogLinesPerInvocation,
      maxPendingTimers: limits.maxPendingTimers,
      maxFetchesPerInvocation: limits.maxFetchesPerInvocation,
      maxFetchBodyBytes: limits.maxFetchBodyBytes,
      maxStateValueBytes: limits.maxStateValueBytes,
    },
    reservedTopics: reserved,
    state: options.state === true,
  };
}

/** The host's result from the harness's (possibly partial) result; records without an outcome get `failure`. */
function toResult(pending: PendingInvocation, wire: WireResult | undefined, failure: SerializedError | undefined): InvocationResult {
  const missing: SerializedError = failure ?? sandboxFailure("EDDY_SANDBOX_INVALID_FUNCTION", "the sandbox returned no outcome for this record");
  const outcomes: RecordOutcome[] = [];
  for (let i = 0; i < pending.recordCount; i++) {
    const outcome = wire?.outcomes[i];
    outcomes.push(outcome === null || outcome === undefined ? { status: "failed", error: missing } : outcome);
  }
  const emitted: EmittedRecord[] = (wire?.emitted ?? []).map((emit) => ({
    topic: emit.topic,
    key: emit.key,
    value: emit.value,
    // checkResult made each emit's headers a copy of its own already.
    headers: emit.headers,
    recordIndex: emit.recordIndex,
  }));
  const result: InvocationResult = { outcomes, emitted, durationMs: performance.now() - pending.startedAt };
  if (wire?.stateWrites?.length) result.stateWrites = wire.stateWrites.map((w) => ({ key: w.key, value: w.value, recordIndex: w.recordIndex }));
  if (wire?.logsDropped) result.logsDropped = wire.logsDropped;
  return result;
}
