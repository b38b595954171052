import { log } from "../log.js";
import type { EgressPolicy } from "./egress.js";
import { egressFetch } from "./host-fetch.js";
import { describeHostError, type IsolateRuntime, type PendingInvocation } from "./isolate-runtime.js";
import { MAX_LOG_LINE_CHARS, type SandboxLimits } from "./limits.js";
import type { LogLevel, SandboxTrace, TraceIds } from "./types.js";
import type { WireFetchRequest, WireFetchResult } from "./wire.js";

/** What answers ctx.fetch in place of the network: a request the egress policy allowed, its result. */
export type SandboxFetcher = (request: WireFetchRequest, options: { timeoutMs: number; signal: AbortSignal }) => Promise<WireFetchResult>;

const LOG_LEVELS = new Set<string>(["debug", "info", "warn", "error"]);
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * What the host does for the isolate, one isolate generation at a time: the function's log lines,
 * timers and fetches. Everything the isolate asks arrives as copied data from code that may have
 * been tampered with, so each request is checked and every limit that protects the worker is
 * counted here again. Timers and fetches run only while an invocation is in flight, and never
 * past the latest deadline of those in flight.
 */
export class HostBridge {
  constructor(
    private readonly limits: SandboxLimits,
    private readonly egress: EgressPolicy,
    private readonly functionName: string,
    private readonly onLog: (level: LogLevel, message: string, trace?: TraceIds) => void,
    /** A timer or fetch callback failed in the isolate (timeout, heap overflow, unhandled rejection). */
    private readonly onCallbackError: (runtime: IsolateRuntime, error: unknown) => void,
    /** Stands in for the network (eddy/testing): asked after the egress check, in place of egressFetch. */
    private readonly fetcher?: SandboxFetcher,
  ) {}

  log(runtime: IsolateRuntime, level: unknown, message: unknown, invocation: unknown): void {
    if (runtime.disposed || typeof level !== "string" || !LOG_LEVELS.has(level) || typeof message !== "string") return;
    const window = runtime.logWindow;
    if (window.budget === 0) window.budget = this.limits.maxLogLinesPerInvocation;
    // The harness keeps the budget; twice it is the backstop should the function have tampered with the harness.
    if (window.lines >= window.budget * 2 + 16) {
      window.dropped += 1;
      return;
    }
    window.lines += 1;
    const text = message.length > MAX_LOG_LINE_CHARS + 64 ? `${message.slice(0, MAX_LOG_LINE_CHARS)}… (cut)` : message;
    const trace = traceOf(runtime, invocation);
    if (trace === undefined) this.onLog(level as LogLevel, text);
    else this.onLog(level as LogLevel, text, trace.ids);
  }

  /** An invocation starts: a log window opens with it, or grows by one invocation's budget. */
  invocationStarted(runtime: IsolateRuntime): void {
    const window = runtime.logWindow;
    if (runtime.inflight.size === 0) {
      window.lines = 0;
      window.budget = this.limits.maxLogLinesPerInvocation;
    } else window.budget += this.limits.maxLogLinesPerInvocation;
  }

  /**
   * An invocation ended (already out of `inflight`): stops timers and fetches when it was the last,
   * and reports the log lines dropped since the last report (those the harness counted plus ours).
   * @returns how many were dropped
   */
  invocationEnded(runtime: IsolateRuntime, droppedInIsolate: number): number {
    if (runtime.inflight.size === 0) {
      runtime.clearTimers();
      runtime.fetches.abortAll();
    }
    const dropped = droppedInIsolate + runtime.logWindow.dropped;
    runtime.logWindow.dropped = 0;
    if (dropped > 0) {
      this.onLog(
        "warn",
        `${dropped} log line(s) dropped: the function logged more than ${this.limits.maxLogLinesPerInvocation} lines in one invocation (maxLogLinesPerInvocation)`,
      );
    }
    return dropped;
  }

  setTimer(runtime: IsolateRuntime, timerId: unknown, delay: unknown): void {
    if (!this.#active(runtime) || typeof timerId !== "number") return;
    // The harness caps pending timers; twice that is the backstop.
    if (!runtime.timers.has(timerId) && runtime.timers.size >= this.limits.maxPendingTimers * 2) return;
    const delayMs = typeof delay === "number" && delay > 0 ? Math.min(delay, MAX_TIMER_DELAY_MS) : 0;
    clearTimeout(runtime.timers.get(timerId));
    const timer = setTimeout(() => {
      runtime.timers.delete(timerId);
      const budgetMs = this.#budgetMs(runtime);
      if (!this.#active(runtime) || budgetMs <= 0) return;
      runtime.fireTimer(timerId, budgetMs).catch((error: unknown) => this.onCallbackError(runtime, error));
    }, delayMs);
    runtime.timers.set(timerId, timer);
  }

  clearTimer(runtime: IsolateRuntime, timerId: unknown): void {
    if (typeof timerId !== "number") return;
    clearTimeout(runtime.timers.get(timerId));
    runtime.timers.delete(timerId);
  }

  /** Runs a ctx.fetch (egress checked on every hop) and hands the answer back while an invocation is still in flight. */
  fetch(runtime: IsolateRuntime, fetchId: unknown, request: WireFetchRequest): void {
    if (!this.#active(runtime) || typeof fetchId !== "number") return;
    // The answers that arrive in one turn of the event loop go into the isolate in one call: each
    // call costs a crossing of its own (tens of µs of this thread), and 64 fetches in flight answer often.
    const deliver = (result: WireFetchResult) => {
      if (!this.#active(runtime)) return;
      runtime.settledFetches.push([fetchId, result]);
      if (runtime.settledFetches.length === 1) setImmediate(() => this.#deliverFetches(runtime));
    };
    const { limits } = this;
    const span = traceOf(runtime, request.invocation)?.startFetch(String(request.method), String(request.url));
    const traced = span === undefined ? request : withHeaders(request, span.headers);
    const run = runtime.fetches.run((signal) => {
      const options = { timeoutMs: Math.min(limits.fetchTimeoutMs, this.#budgetMs(runtime)), signal };
      return this.fetcher === undefined ? egressFetch(traced, this.egress, limits, options) : this.#fetchInstead(traced, this.fetcher, options);
    });
    if (span !== undefined) {
      const end = span.end.bind(span);
      if (run === undefined) end({ error: "too many fetches waiting (maxConcurrentFetches)" });
      else run.then((result) => end(result.ok ? { status: result.status } : { error: result.message }), (error: unknown) => end({ error: describeHostError(error) }));
    }
    if (run === undefined) {
      deliver({ ok: false, code: "EDDY_SANDBOX_LIMIT", message: "ctx.fetch: too many fetches are waiting for a connection slot (maxConcurrentFetches)", retriable: true });
      return;
    }
    run.then(deliver, (error: unknown) => {
      log.warn({ function: this.functionName, err: error }, "ctx.fetch failed on the host");
      deliver({ ok: false, code: "EDDY_SANDBOX_FETCH_FAILED", message: `ctx.fetch: ${describeHostError(error)}`, retriable: true });
    });
  }

  #deliverFetches(runtime: IsolateRuntime): void {
    const results = runtime.settledFetches.splice(0);
    const budgetMs = this.#budgetMs(runtime);
    if (results.length === 0 || !this.#active(runtime) || budgetMs <= 0) return;
    runtime.fetchesSettled(results, budgetMs).catch((error: unknown) => this.onCallbackError(runtime, error));
  }

  /** The test's answer to a ctx.fetch that egress allows; what egress denies is denied as in production. */
  async #fetchInstead(request: WireFetchRequest, fetcher: SandboxFetcher, options: { timeoutMs: number; signal: AbortSignal }): Promise<WireFetchResult> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { ok: false, code: "EDDY_SANDBOX_FETCH_FAILED", message: `ctx.fetch: invalid URL: ${request.url}`, retriable: false };
    }
    const denial = this.egress.denial(url);
    if (denial !== undefined) return { ok: false, code: "EDDY_SANDBOX_EGRESS_DENIED", message: `ctx.fetch: ${denial}`, retriable: false };
    return fetcher(request, options);
  }

  #active(runtime: IsolateRuntime): boolean {
    return !runtime.disposed && !runtime.resetting && runtime.inflight.size > 0;
  }

  /** Until the latest deadline of the invocations in flight. */
  #budgetMs(runtime: IsolateRuntime): number {
    let deadline = 0;
    for (const pending of runtime.inflight.values()) deadline = Math.max(deadline, pending.deadline);
    return Math.ceil(deadline - performance.now());
  }
}

/**
 * The trace of the invocation a log line or fetch came from. The id comes from the isolate: one
 * that names no invocation in flight gets none. console.* names none; when one invocation is in
 * flight it can only be that one's.
 */
function traceOf(runtime: IsolateRuntime, invocation: unknown): SandboxTrace | undefined {
  let pending: PendingInvocation | undefined;
  if (typeof invocation === "number") pending = runtime.inflight.get(invocation);
  else if (runtime.inflight.size === 1) pending = runtime.inflight.values().next().value;
  return pending?.trace;
}

/** The request with the client span's context headers, in place of any the function set itself. */
function withHeaders(request: WireFetchRequest, extra: Record<string, string>): WireFetchRequest {
  const names = new Set(Object.keys(extra));
  const own = (Array.isArray(request.headers) ? request.headers : []).filter(([name]) => !names.has(String(name).toLowerCase()));
  return { ...request, headers: [...own, ...Object.entries(extra)] };
}
