import { setMaxListeners } from "node:events";
import type { EgressPolicy } from "./egress.js";
import { httpRequest, type HttpAnswer } from "./http-exchange.js";
import type { SandboxLimits } from "./limits.js";
import type { WireFetchRequest, WireFetchResult } from "./wire.js";

export type FetchLimits = Pick<SandboxLimits, "maxFetchBodyBytes" | "maxRedirects">;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
// Set by the HTTP client from the URL and the body; a function setting them could smuggle requests past egress.
const FORBIDDEN_HEADERS = new Set(["host", "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "expect"]);
const CREDENTIAL_HEADERS = new Set(["authorization", "cookie", "proxy-authorization"]);
const TIMED_OUT = Symbol("timed out");

const fail = (code: Extract<WireFetchResult, { ok: false }>["code"], message: string, retriable: boolean): WireFetchResult => ({
  ok: false,
  code,
  message,
  retriable,
});

/**
 * Performs one ctx.fetch for the isolate, in the worker: every URL (the first and each redirect,
 * followed here one by one) must pass `egress`; the body is read whole up to maxFetchBodyBytes;
 * the whole exchange ends after `timeoutMs`. Never throws: failures are results for the isolate.
 */
export async function egressFetch(
  request: WireFetchRequest,
  egress: EgressPolicy,
  limits: FetchLimits,
  options: { timeoutMs: number; signal: AbortSignal },
): Promise<WireFetchResult> {
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal.reason);
  if (options.signal.aborted) abort();
  options.signal.addEventListener("abort", abort, { once: true });
  const timer = setTimeout(() => controller.abort(TIMED_OUT), Math.max(1, options.timeoutMs));
  try {
    return await exchange(request, egress, limits, controller.signal, options.timeoutMs);
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener("abort", abort);
  }
}

async function exchange(request: WireFetchRequest, egress: EgressPolicy, limits: FetchLimits, signal: AbortSignal, timeoutMs: number): Promise<WireFetchResult> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return fail("EDDY_SANDBOX_FETCH_FAILED", `ctx.fetch: invalid URL: ${request.url}`, false);
  }
  let method = typeof request.method === "string" ? request.method : "GET";
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) return fail("EDDY_SANDBOX_FETCH_FAILED", `ctx.fetch: the method ${method} is not allowed`, false);
  let headers = (Array.isArray(request.headers) ? request.headers : [])
    .map(([name, value]) => [String(name).toLowerCase(), String(value)] as [string, string])
    // The client computes it from the body.
    .filter(([name]) => name !== "content-length");
  const forbidden = headers.find(([name]) => FORBIDDEN_HEADERS.has(name) || name.startsWith("proxy-"));
  if (forbidden !== undefined) {
    return fail("EDDY_SANDBOX_EGRESS_DENIED", `ctx.fetch: the ${forbidden[0]} header cannot be set by a function (it comes from the URL and the body)`, false);
  }
  let body: Uint8Array | null = request.body instanceof Uint8Array ? request.body : null;
  if (body !== null && body.byteLength > limits.maxFetchBodyBytes) {
    return fail("EDDY_SANDBOX_FETCH_TOO_LARGE", `ctx.fetch: the request body is ${body.byteLength} bytes; the limit is ${limits.maxFetchBodyBytes} (maxFetchBodyBytes)`, false);
  }
  const mode = request.redirect === "manual" || request.redirect === "error" ? request.redirect : "follow";

  for (let hop = 0; ; hop++) {
    const denial = egress.denial(url);
    if (denial !== undefined) {
      const message = hop === 0 ? `ctx.fetch ${url.href}: ${denial}` : `ctx.fetch: a redirect led to ${url.href}: ${denial}`;
      return fail("EDDY_SANDBOX_EGRESS_DENIED", message, false);
    }
    let response: HttpAnswer;
    try {
      response = await httpRequest(url, { method, headers, body, signal });
    } catch (error) {
      return networkFailure(url, error, signal, timeoutMs);
    }
    const location = response.header("location") ?? null;
    if (REDIRECTS.has(response.status) && location !== null && mode !== "manual") {
      response.discard();
      if (mode === "error") return fail("EDDY_SANDBOX_FETCH_FAILED", `ctx.fetch ${url.href}: redirected (${response.status}) while redirect is "error"`, false);
      if (hop >= limits.maxRedirects) {
        return fail("EDDY_SANDBOX_FETCH_FAILED", `ctx.fetch ${request.url}: more than ${limits.maxRedirects} redirects (maxRedirects)`, true);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return fail("EDDY_SANDBOX_FETCH_FAILED", `ctx.fetch ${url.href}: the redirect's Location is not a URL: ${location}`, true);
      }
      // As the Fetch standard: 303 turns into a GET, and so do 301/302 after a POST; credentials stay with their origin.
      if ((response.status === 303 && method !== "GET" && method !== "HEAD") || ((response.status === 301 || response.status === 302) && method === "POST")) {
        method = "GET";
        body = null;
        headers = headers.filter(([name]) => !name.startsWith("content-"));
      }
      if (next.origin !== url.origin) headers = headers.filter(([name]) => !CREDENTIAL_HEADERS.has(name));
      url = next;
      continue;
    }
    return readResponse(response, url, hop > 0, limits, signal, timeoutMs);
  }
}

async function readResponse(response: HttpAnswer, url: URL, redirected: boolean, limits: FetchLimits, signal: AbortSignal, timeoutMs: number): Promise<WireFetchResult> {
  const tooLarge = (bytes: string) =>
    fail("EDDY_SANDBOX_FETCH_TOO_LARGE", `ctx.fetch ${url.href}: the response body is ${bytes} bytes; the limit is ${limits.maxFetchBodyBytes} (maxFetchBodyBytes)`, true);
  const declared = Number(response.header("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limits.maxFetchBodyBytes) {
    response.discard();
    return tooLarge(String(declared));
  }
  let body: Uint8Array | undefined;
  try {
    body = await response.readBody(limits.maxFetchBodyBytes);
  } catch (error) {
    return networkFailure(url, error, signal, timeoutMs);
  }
  if (body === undefined) return tooLarge(`more than ${limits.maxFetchBodyBytes}`);
  return { ok: true, status: response.status, statusText: response.statusText, headers: response.headers, url: url.href, redirected, body };
}

function networkFailure(url: URL, error: unknown, signal: AbortSignal, timeoutMs: number): WireFetchResult {
  if (signal.aborted && signal.reason === TIMED_OUT) {
    return fail("EDDY_SANDBOX_FETCH_TIMEOUT", `ctx.fetch ${url.href}: no complete answer within ${timeoutMs} ms (fetchTimeoutMs, or what the invocation had left)`, true);
  }
  if (signal.aborted) return fail("EDDY_SANDBOX_FETCH_FAILED", `ctx.fetch ${url.href}: cancelled because the invocation ended`, true);
  return fail("EDDY_SANDBOX_FETCH_FAILED", `ctx.fetch ${url.href}: ${failureReason(error)}`, true);
}

/** What a failed request says went wrong: the system error's code (ECONNREFUSED, ENOTFOUND), else its message. */
function failureReason(error: unknown): string {
  const { code } = (error ?? {}) as { code?: unknown };
  // Node's own ERR_* codes name its checks (an invalid header, say), not the network: their message says more.
  if (typeof code === "string" && code.startsWith("E") && !code.startsWith("ERR_")) return code;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The fetches of one isolate generation: at most `maxConcurrent` in flight, the rest in line, all
 * cancelled at once by abortAll() (when no invocation is in flight any more, or the isolate goes).
 */
export class FetchGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #controller: AbortController;
  /** Whether a fetch has run under `#controller`: only then is there anything to abort (aborting makes a DOMException, some 10 µs). */
  #used = false;

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxWaiting: number,
  ) {
    this.#controller = this.#newController();
  }

  /** Runs `task` when a slot is free; undefined when too many already wait. */
  run<T>(task: (signal: AbortSignal) => Promise<T>): Promise<T> | undefined {
    if (this.#waiting.length >= this.maxWaiting) return undefined;
    const signal = this.#controller.signal;
    this.#used = true;
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#running += 1;
        task(signal)
          .then(resolve, reject)
          .finally(() => {
            this.#running -= 1;
            this.#waiting.shift()?.();
          });
      };
      if (this.#running < this.maxConcurrent) start();
      else this.#waiting.push(start);
    });
  }

  abortAll(): void {
    if (!this.#used) return;
    this.#used = false;
    this.#controller.abort();
    this.#controller = this.#newController();
  }

  /** Each running fetch listens on the signal: Node warns of a leak past 10 listeners unless told how many to expect. */
  #newController(): AbortController {
    const controller = new AbortController();
    setMaxListeners(Math.max(10, this.maxConcurrent), controller.signal);
    return controller;
  }
}
