import { randomBytes } from "node:crypto";
import ivm from "isolated-vm";
import { invalidFunctionError } from "./errors.js";
import { FetchGate } from "./host-fetch.js";
import type { FunctionInfo, InvocationResult, LogLevel, SandboxRecord, SandboxTrace, StateReader } from "./types.js";
import { parseUrlForIsolate, setUrlPartForIsolate } from "./url-host.js";
import {
  INSTALL_GLOBAL_NAME,
  type HarnessApi,
  type HarnessEnvironment,
  type InvocationOrder,
  type WireBatch,
  type WireFetchRequest,
  type WireFetchResult,
  type WireLoadResult,
  type WireStateValues,
} from "./wire.js";

/** An invocation the host waits on; it belongs to the isolate generation it was started in. */
export interface PendingInvocation {
  id: number;
  recordCount: number;
  /** The records themselves (not copied), to name them should the process have to abort. */
  records: readonly SandboxRecord[];
  /** As InvokeOptions.stopOnFailure: records after a failed one are not run. */
  stopOnFailure: boolean;
  /** Set when its own call into the isolate timed out or died there: it certainly did it. */
  guilty?: "timeout" | "memory";
  /** performance.now() after which the invocation has timed out. */
  deadline: number;
  timeoutMs: number;
  startedAt: number;
  deadlineTimer: NodeJS.Timeout | undefined;
  /** InvokeOptions.trace. */
  trace: SandboxTrace | undefined;
  /** InvokeOptions.state. */
  state: StateReader | undefined;
  resolve(result: InvocationResult): void;
}

/**
 * What the isolate calls on the host. Each gets the runtime, so a call from a disposed generation
 * can be ignored. Arguments come from the isolate: the handlers check them.
 */
export interface RuntimeHandlers {
  /** `invocation`: the id of the invocation whose ctx.log wrote it (absent for console.*). */
  log(runtime: IsolateRuntime, level: LogLevel, message: string, invocation: unknown): void;
  settle(runtime: IsolateRuntime, invocationId: number, result: unknown): void;
  setTimer(runtime: IsolateRuntime, timerId: number, delayMs: number): void;
  clearTimer(runtime: IsolateRuntime, timerId: number): void;
  fetch(runtime: IsolateRuntime, fetchId: number, request: WireFetchRequest): void;
  /** ctx.state's read: the JSON text of `key` for the invocation's partition, null when none. Answered synchronously. */
  stateGet(runtime: IsolateRuntime, invocationId: unknown, key: unknown): string | null;
  catastrophe(message: string): void;
}

export interface RuntimeSpec {
  harness: string;
  code: string;
  memoryMb: number;
  environment: HarnessEnvironment;
  loadTimeoutMs: number;
  /** ctx.fetch requests in flight at once; more wait (up to 64 times as many, then fail). */
  maxConcurrentFetches: number;
}

/** The most random bytes the isolate gets per call (the Web Crypto quota). */
const MAX_RANDOM_BYTES = 65_536;

const HARNESS_TIMEOUT_MS = 5_000;

/**
 * One isolate generation: the isolate, its context and references to the harness entry points,
 * plus the host-side state that dies with it (timers, invocations in flight). A timeout or a heap
 * overflow disposes the generation; the sandbox builds a new one.
 */
export class IsolateRuntime {
  readonly inflight = new Map<number, PendingInvocation>();
  readonly timers = new Map<number, NodeJS.Timeout>();
  readonly fetches: FetchGate;
  /** The log window (see isolate/log-budget.ts), counted again here in case the harness was tampered with. */
  readonly logWindow = { lines: 0, budget: 0, dropped: 0 };
  /** Set once a reset has begun: the generation takes no new work. */
  resetting = false;
  #disposed = false;
  #invoke: ivm.Reference<HarnessApi["invoke"]> | undefined;
  #fireTimer: ivm.Reference<HarnessApi["fireTimer"]> | undefined;
  #fetchesSettled: ivm.Reference<HarnessApi["fetchesSettled"]> | undefined;
  /** ctx.fetch answers waiting to go into the isolate together (HostBridge.fetch). */
  readonly settledFetches: [number, WireFetchResult][] = [];
  #collect: ivm.Reference<HarnessApi["collect"]> | undefined;

  private constructor(
    readonly isolate: ivm.Isolate,
    maxConcurrentFetches: number,
  ) {
    this.fetches = new FetchGate(maxConcurrentFetches, maxConcurrentFetches * 64);
  }

  /** Builds the isolate, installs the harness, runs the bundle and loads the definition. */
  static async create(spec: RuntimeSpec, handlers: RuntimeHandlers): Promise<{ runtime: IsolateRuntime; info: FunctionInfo }> {
    const isolate = new ivm.Isolate({ memoryLimit: spec.memoryMb, onCatastrophicError: (message) => handlers.catastrophe(message) });
    const runtime = new IsolateRuntime(isolate, spec.maxConcurrentFetches);
    try {
      const info = await runtime.#load(spec, handlers);
      return { runtime, info };
    } catch (error) {
      runtime.dispose();
      throw error;
    }
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  async #load(spec: RuntimeSpec, handlers: RuntimeHandlers): Promise<FunctionInfo> {
    const context = await this.isolate.createContext();
    const harness = await this.isolate.compileScript(spec.harness, { filename: "file:///eddy-harness.js" });
    await harness.run(context, { timeout: HARNESS_TIMEOUT_MS });
    const install = await context.global.get(INSTALL_GLOBAL_NAME, { reference: true });
    // Fire-and-forget calls: the isolate does not wait for them.
    const callback = <A extends unknown[]>(fn: (...args: A) => void) => new ivm.Callback((...args: A) => fn(...args), { ignored: true });
    // Synchronous calls (the isolate waits): pure functions of their arguments, nothing of the host's state.
    const sync = <A extends unknown[], R>(fn: (...args: A) => R) => new ivm.Callback((...args: A) => fn(...args), { sync: true });
    const api = (await install.apply(
      undefined,
      [
        callback((level: LogLevel, message: string, invocation?: number) => handlers.log(this, level, message, invocation)),
        callback((id: number, delayMs: number) => handlers.setTimer(this, id, delayMs)),
        callback((id: number) => handlers.clearTimer(this, id)),
        callback((id: number, result: unknown) => handlers.settle(this, id, result)),
        callback((id: number, request: WireFetchRequest) => handlers.fetch(this, id, request)),
        sync(parseUrlForIsolate),
        sync(setUrlPartForIsolate),
        sync((length: unknown) => {
          const size = typeof length === "number" && Number.isInteger(length) ? Math.min(Math.max(length, 0), MAX_RANDOM_BYTES) : 0;
          // A copy with a buffer of its own: a view into Node's pool would carry the whole pool across.
          return new Uint8Array(randomBytes(size));
        }),
        new ivm.Callback((id: unknown, key: unknown) => handlers.stateGet(this, id, key), { sync: true }),
        new ivm.ExternalCopy(spec.environment).copyInto(),
      ],
      { result: { reference: true }, timeout: HARNESS_TIMEOUT_MS },
    )) as ivm.Reference<HarnessApi>;
    install.release();

    let bundle: ivm.Script;
    try {
      bundle = await this.isolate.compileScript(spec.code, { filename: "file:///function.js" });
    } catch (error) {
      throw invalidFunctionError([`the bundle is not valid JavaScript: ${describeHostError(error)}`], { cause: describeHostError(error) });
    }
    try {
      await bundle.run(context, { timeout: spec.loadTimeoutMs });
    } catch (error) {
      throw invalidFunctionError([`loading the function failed: ${this.#loadFailure(error, spec)}`]);
    }
    const load = await api.get("load", { reference: true });
    const loaded = (await load.apply(undefined, [], { result: { copy: true }, timeout: spec.loadTimeoutMs })) as WireLoadResult;
    if (!loaded.ok) throw invalidFunctionError(loaded.problems);
    this.#invoke = await api.get("invoke", { reference: true });
    this.#fireTimer = await api.get("fireTimer", { reference: true });
    this.#fetchesSettled = await api.get("fetchesSettled", { reference: true });
    this.#collect = await api.get("collect", { reference: true });
    return loaded.info;
  }

  #loadFailure(error: unknown, spec: RuntimeSpec): string {
    if (this.isolate.isDisposed) return `it ran out of memory (memoryMb ${spec.memoryMb})`;
    if (isTimeoutError(error)) return `its top-level code ran longer than ${spec.loadTimeoutMs} ms`;
    return `its top-level code threw ${describeHostError(error)}`;
  }

  /** Starts an invocation; the result arrives through RuntimeHandlers.settle. Rejects on timeout, heap overflow or an unhandled rejection. */
  invoke(id: number, batch: WireBatch, attempt: number, stopOnFailure: boolean, order: InvocationOrder, timeoutMs: number, state: WireStateValues | null): Promise<unknown> {
    return this.#invoke!.apply(undefined, [id, batch, attempt, stopOnFailure, order, state], { arguments: { copy: true }, timeout: timeoutMs });
  }

  fireTimer(timerId: number, timeoutMs: number): Promise<unknown> {
    return this.#fireTimer!.apply(undefined, [timerId], { timeout: timeoutMs });
  }

  fetchesSettled(results: [number, WireFetchResult][], timeoutMs: number): Promise<unknown> {
    return this.#fetchesSettled!.apply(undefined, [results], { arguments: { copy: true }, timeout: timeoutMs });
  }

  /**
   * Ends an invocation early and returns what it finished (unchecked, as the harness gave it; null
   * if it had already settled); undefined if the isolate does not answer within waitMs (it is busy,
   * e.g. in a loop the CPU timeout could not see).
   */
  async collect(id: number, waitMs: number): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const call = this.#collect!.apply(undefined, [id], { result: { copy: true }, timeout: waitMs }) as Promise<unknown>;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, waitMs + 50, undefined)));
    try {
      return await Promise.race([call.catch(() => undefined), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  clearTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.clearTimers();
    this.fetches.abortAll();
    for (const pending of this.inflight.values()) clearTimeout(pending.deadlineTimer);
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/** isolated-vm's error when the `timeout` option cut a call short. */
export function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && error.message === "Script execution timed out.";
}

/** Text for anything isolated-vm rethrows on the host (errors come over as copies; thrown strings as strings). */
export function describeHostError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error === "string" ? error : String(error);
}
