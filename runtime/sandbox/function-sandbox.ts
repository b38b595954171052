import { performance } from "node:perf_hooks";
import { EddyError, isEddyError } from "../eddy-error.js";
import { log } from "../log.js";
import type { SandboxErrorCode } from "./errors.js";
import { harnessScript } from "./harness-script.js";
import { describeHostError, IsolateRuntime, isTimeoutError, type PendingInvocation, type RuntimeHandlers, type RuntimeSpec } from "./isolate-runtime.js";
import { packRecords } from "./pack-records.js";
import { sandboxFailure, type SerializedError } from "./serialized-error.js";
import type { EmittedRecord, FunctionInfo, InvocationResult, LogLevel, RecordOutcome, SandboxRecord } from "./types.js";
import type { WireResult } from "./wire.js";

export type { SerializedError } from "./serialized-error.js";
export type { EmittedRecord, FunctionInfo, InvocationResult, LogLevel, RecordOutcome, SandboxRecord } from "./types.js";

export interface FunctionSandboxOptions {
  /** A bundle from bundleFunction (or the CLI's equivalent). */
  code: string;
  memoryMb: number;
  env: Record<string, string>;
  function: { name: string; version: number };
  onLog: (level: LogLevel, message: string) => void;
  /** How long the bundle's top-level code may run at load. Default 10000. */
  loadTimeoutMs?: number;
}

export interface InvokeOptions {
  /** 1-based, as ctx.attempt. */
  attempt: number;
  timeoutMs: number;
  /** Default true: with `handle`, the records after the first failed one are "skipped", not run. */
  stopOnFailure?: boolean;
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
  #runtime: IsolateRuntime | undefined;
  #building: Promise<IsolateRuntime> | undefined;
  #nextInvocationId = 0;
  #disposed = false;

  private constructor(options: FunctionSandboxOptions, spec: RuntimeSpec, runtime: IsolateRuntime, info: FunctionInfo, handlers: RuntimeHandlers) {
    this.#options = options;
    this.#spec = spec;
    this.#runtime = runtime;
    this.#info = info;
    this.#handlers = handlers;
  }

  /**
   * Compiles and runs the bundle once and loads its default export.
   *
   * @throws EddyError `EDDY_SANDBOX_INVALID_FUNCTION` (userError) when the default export is not a
   *   definition with name, topics and a handle/handleBatch function, or loading the bundle fails.
   */
  static async create(options: FunctionSandboxOptions): Promise<FunctionSandbox> {
    const spec: RuntimeSpec = {
      harness: await harnessScript(),
      code: options.code,
      memoryMb: options.memoryMb,
      environment: { env: { ...options.env }, function: { name: options.function.name, version: options.function.version } },
      loadTimeoutMs: options.loadTimeoutMs ?? 10_000,
    };
    let sandbox: FunctionSandbox | undefined;
    // The handlers go through `sandbox`, which exists once the first runtime has loaded.
    const handlers: RuntimeHandlers = {
      log: (runtime, level, message) => {
        if (!runtime.disposed) options.onLog(level, message);
      },
      settle: (runtime, id, result) => {
        if (sandbox !== undefined) sandbox.#settle(runtime, id, result);
      },
      setTimer: (runtime, id, delayMs) => {
        if (sandbox !== undefined) sandbox.#setTimer(runtime, id, delayMs);
      },
      clearTimer: (runtime, id) => {
        clearTimeout(runtime.timers.get(id));
        runtime.timers.delete(id);
      },
      catastrophe: (message) => {
        // isolated-vm's documented advice: V8 lost control of the isolate and its resources are
        // unrecoverable, so the process must end; the worker is restarted and nothing is lost (SPEC §4, §5).
        log.fatal({ function: options.function.name, message }, "isolated-vm reported a catastrophic error; aborting");
        process.abort();
      },
    };
    const { runtime, info } = await IsolateRuntime.create(spec, handlers);
    sandbox = new FunctionSandbox(options, spec, runtime, info, handlers);
    return sandbox;
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
        startedAt,
        timeoutMs,
        deadline: performance.now() + timeoutMs,
        deadlineTimer: undefined,
        resolve,
      };
      runtime.inflight.set(id, pending);
      // The CPU timeout below cannot see time spent awaiting (a promise that never settles, or a
      // loop after an await of a timer), so the host keeps its own deadline.
      pending.deadlineTimer = setTimeout(() => void this.#reset(runtime, "timeout", id), timeoutMs);
      runtime
        .invoke(id, batch, options.attempt, options.stopOnFailure ?? true, timeoutMs)
        .catch((error: unknown) => this.#onIsolateError(runtime, error, id));
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

  #settle(runtime: IsolateRuntime, id: number, wire: WireResult): void {
    const pending = runtime.inflight.get(id);
    if (pending === undefined) return;
    this.#finish(runtime, pending, toResult(pending, wire, undefined));
  }

  #finish(runtime: IsolateRuntime, pending: PendingInvocation, result: InvocationResult): void {
    clearTimeout(pending.deadlineTimer);
    runtime.inflight.delete(pending.id);
    // Timers never outlive the invocations: when none is in flight, none may fire.
    if (runtime.inflight.size === 0) runtime.clearTimers();
    pending.resolve(result);
  }

  #setTimer(runtime: IsolateRuntime, timerId: number, delayMs: number): void {
    if (runtime.disposed || runtime.resetting || runtime.inflight.size === 0) return;
    clearTimeout(runtime.timers.get(timerId));
    const timer = setTimeout(() => {
      runtime.timers.delete(timerId);
      if (runtime.disposed || runtime.resetting || runtime.inflight.size === 0) return;
      let deadline = 0;
      for (const pending of runtime.inflight.values()) deadline = Math.max(deadline, pending.deadline);
      const budgetMs = Math.ceil(deadline - performance.now());
      if (budgetMs <= 0) return;
      runtime.fireTimer(timerId, budgetMs).catch((error: unknown) => this.#onIsolateError(runtime, error, undefined));
    }, delayMs);
    runtime.timers.set(timerId, timer);
  }

  #onIsolateError(runtime: IsolateRuntime, error: unknown, invocationId: number | undefined): void {
    if (runtime.disposed || runtime.resetting) return;
    if (runtime.isolate.isDisposed) {
      void this.#reset(runtime, "memory", invocationId);
    } else if (isTimeoutError(error)) {
      void this.#reset(runtime, "timeout", invocationId);
    } else {
      // The harness catches everything the function throws, so what rejects a call is a promise
      // the function rejected and never handled in the same turn; Node would crash, Eddy logs it.
      this.#options.onLog("error", `Unhandled promise rejection: ${describeHostError(error)}`);
    }
  }

  /**
   * Ends an isolate generation after a timeout or heap overflow: keeps what the timed-out
   * invocations finished (if the isolate still answers), fails the rest, disposes the isolate.
   * The next invoke() builds a new one.
   */
  async #reset(runtime: IsolateRuntime, cause: "timeout" | "memory", culpritId: number | undefined): Promise<void> {
    if (runtime.disposed || runtime.resetting) return;
    if (cause === "timeout" && culpritId !== undefined && !runtime.inflight.has(culpritId)) return;
    runtime.resetting = true;
    if (this.#runtime === runtime) this.#runtime = undefined;
    const partial = new Map<number, WireResult>();
    if (cause === "timeout" && !runtime.isolate.isDisposed) {
      for (const id of [...runtime.inflight.keys()]) {
        if (!runtime.inflight.has(id)) continue;
        const result = await runtime.collect(id, COLLECT_WAIT_MS);
        if (result === undefined) break;
        if (result !== null) partial.set(id, result);
      }
    }
    const now = performance.now();
    const { memoryMb } = this.#spec;
    // Read before #endRuntime disposes it: an isolate that died on its own ran out of memory.
    const outOfMemory = cause === "memory" || runtime.isolate.isDisposed;
    this.#endRuntime(runtime, (pending) => {
      if (outOfMemory) {
        return sandboxFailure("EDDY_SANDBOX_MEMORY", `the function ran out of memory (memoryMb ${memoryMb}); the isolate was rebuilt`);
      }
      if (pending.id === culpritId || now >= pending.deadline) {
        return sandboxFailure("EDDY_SANDBOX_TIMEOUT", `the invocation ran longer than timeoutMs (${pending.timeoutMs} ms); the isolate was rebuilt`);
      }
      return sandboxFailure("EDDY_SANDBOX_RESET", "another invocation in the same isolate timed out, so the isolate was rebuilt under this one");
    }, partial);
    log.warn({ function: this.#options.function.name, cause }, "function isolate disposed; it is rebuilt on the next invocation");
  }

  #endRuntime(runtime: IsolateRuntime, failure: (pending: PendingInvocation) => SerializedError, partial = new Map<number, WireResult>()): void {
    runtime.resetting = true;
    runtime.dispose();
    for (const pending of [...runtime.inflight.values()]) {
      this.#finish(runtime, pending, toResult(pending, partial.get(pending.id), failure(pending)));
    }
  }
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
    headers: { ...emit.headers },
    recordIndex: emit.recordIndex,
  }));
  return { outcomes, emitted, durationMs: performance.now() - pending.startedAt };
}
