// ctx.fetch inside the isolate: turns (input, init) into a plain request for the host, which alone
// decides what may be reached (egress) and does the network work, and turns the host's answer into
// a Response-like object. Nothing here is a policy: it only shapes data and gives early errors.
import type { FetchResponse } from "../../../sdk/types.js";
import type { HostFunctions, IsolateLimits, WireFetchRequest, WireFetchResult } from "../wire.js";
import { describeValue } from "./format.js";
import { platformError } from "./platform-error.js";

type Codec = { encode(text: string): Uint8Array; decode(bytes: Uint8Array): string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\0\r\n]/;
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);
const REDIRECT_MODES = new Set(["follow", "manual", "error"]);

/** Response headers: case-insensitive, read-only for the function. */
export class FetchHeaders {
  readonly #list: [string, string][];

  constructor(list: [string, string][]) {
    this.#list = list.map(([name, value]) => [name.toLowerCase(), value]);
  }

  get(name: unknown): string | null {
    const key = String(name).toLowerCase();
    const values = this.#list.filter(([n]) => n === key).map(([, v]) => v);
    return values.length === 0 ? null : values.join(", ");
  }

  getSetCookie(): string[] {
    return this.#list.filter(([n]) => n === "set-cookie").map(([, v]) => v);
  }

  has(name: unknown): boolean {
    const key = String(name).toLowerCase();
    return this.#list.some(([n]) => n === key);
  }

  forEach(callback: (value: string, name: string, headers: FetchHeaders) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  *entries(): IterableIterator<[string, string]> {
    const names = [...new Set(this.#list.map(([n]) => n))].sort();
    for (const name of names) {
      if (name === "set-cookie") for (const value of this.getSetCookie()) yield [name, value];
      else yield [name, this.get(name)!];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}

function createResponseClass(codec: Codec) {
  return class Response implements FetchResponse {
    readonly status: number;
    readonly statusText: string;
    readonly ok: boolean;
    readonly headers: FetchHeaders;
    readonly url: string;
    readonly redirected: boolean;
    readonly type = "basic";
    #body: Uint8Array;
    #used = false;

    constructor(result: Extract<WireFetchResult, { ok: true }>) {
      this.status = result.status;
      this.statusText = result.statusText;
      this.ok = result.status >= 200 && result.status <= 299;
      this.headers = new FetchHeaders(result.headers);
      this.url = result.url;
      this.redirected = result.redirected;
      this.#body = result.body;
    }

    get bodyUsed(): boolean {
      return this.#used;
    }

    async text(): Promise<string> {
      return codec.decode(this.#consume("text"));
    }

    async json<T = unknown>(): Promise<T> {
      const text = codec.decode(this.#consume("json"));
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new SyntaxError(`response.json(): the body of ${this.url} (${this.status}) is not JSON: ${error instanceof Error ? error.message : String(error)}`);
      }
    }

    async arrayBuffer(): Promise<ArrayBuffer> {
      const body = this.#consume("arrayBuffer");
      return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    }

    async bytes(): Promise<Uint8Array> {
      return new Uint8Array(this.#consume("bytes"));
    }

    clone(): Response {
      if (this.#used) throw new TypeError("response.clone(): the body was already read");
      return new Response({
        ok: true,
        status: this.status,
        statusText: this.statusText,
        headers: [...this.headers],
        url: this.url,
        redirected: this.redirected,
        body: this.#body,
      });
    }

    #consume(method: string): Uint8Array {
      if (this.#used) throw new TypeError(`response.${method}(): the body was already read (a body can be read once; use clone() first)`);
      this.#used = true;
      return this.#body;
    }

    get [Symbol.toStringTag](): string {
      return "Response";
    }
  };
}

export interface FetchClient {
  /** ctx.fetch of one invocation; `quota` counts that invocation's fetches. */
  fetch(quota: { fetches: number; invocation: number }, input: unknown, init: unknown): Promise<FetchResponse>;
  settled(fetchId: number, result: WireFetchResult): void;
  /** Forgets every fetch in flight: called when no invocation is, so none settles outside one. */
  clearAll(): void;
}

export function createFetchClient(
  host: Pick<HostFunctions, "fetch">,
  limits: Pick<IsolateLimits, "maxFetchesPerInvocation" | "maxFetchBodyBytes">,
  codec: Codec,
  parseUrl: (input: string) => { href: string; protocol: string },
): FetchClient {
  const Response = createResponseClass(codec);
  const pending = new Map<number, { resolve(response: FetchResponse): void; reject(error: unknown): void }>();
  let nextId = 0;

  function request(quota: { fetches: number; invocation: number }, input: unknown, init: unknown): WireFetchRequest {
    quota.fetches += 1;
    if (quota.fetches > limits.maxFetchesPerInvocation) {
      throw platformError(
        "EDDY_SANDBOX_LIMIT",
        `ctx.fetch: this invocation already made ${limits.maxFetchesPerInvocation} fetches; the limit is ${limits.maxFetchesPerInvocation} per invocation (maxFetchesPerInvocation)`,
        { retriable: true, type: RangeError },
      );
    }
    const target =
      input !== null && typeof input === "object" && !("href" in input) && typeof (input as { url?: unknown }).url === "string"
        ? (input as { url: string }).url
        : String(input);
    const url = parseUrl(target);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw platformError("EDDY_SANDBOX_EGRESS_DENIED", `ctx.fetch: only http: and https: URLs can be fetched, got ${url.protocol} (${url.href})`, {
        retriable: false,
        type: TypeError,
      });
    }
    if (init !== undefined && init !== null && typeof init !== "object") {
      throw new TypeError(`ctx.fetch: init: expected an object, got ${describeValue(init)}`);
    }
    const options = (init ?? {}) as { method?: unknown; headers?: unknown; body?: unknown; redirect?: unknown };
    let method = options.method === undefined ? "GET" : String(options.method);
    if (!TOKEN.test(method)) throw new TypeError(`ctx.fetch: init.method: expected an HTTP method, got ${describeValue(options.method)}`);
    if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
    const redirect = options.redirect === undefined ? "follow" : String(options.redirect);
    if (!REDIRECT_MODES.has(redirect)) throw new TypeError(`ctx.fetch: init.redirect: expected "follow", "manual" or "error", got ${describeValue(options.redirect)}`);
    const headers = headerList(options.headers);
    const body = encodeBody(options.body, headers, codec);
    if (body !== null && (method === "GET" || method === "HEAD")) throw new TypeError(`ctx.fetch: a ${method} request cannot have a body`);
    if (body !== null && body.byteLength > limits.maxFetchBodyBytes) {
      throw platformError(
        "EDDY_SANDBOX_FETCH_TOO_LARGE",
        `ctx.fetch: the request body is ${body.byteLength} bytes; the limit is ${limits.maxFetchBodyBytes} (maxFetchBodyBytes)`,
        { retriable: false, type: RangeError },
      );
    }
    return { invocation: quota.invocation, url: url.href, method, headers, body, redirect: redirect as WireFetchRequest["redirect"] };
  }

  return {
    fetch(quota, input, init) {
      return new Promise<FetchResponse>((resolve, reject) => {
        const wire = request(quota, input, init);
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        host.fetch(id, wire);
      });
    },
    settled(fetchId, result) {
      const waiter = pending.get(fetchId);
      if (waiter === undefined) return;
      pending.delete(fetchId);
      if (result.ok) waiter.resolve(new Response(result));
      else {
        const name = result.code === "EDDY_SANDBOX_FETCH_TIMEOUT" ? "TimeoutError" : undefined;
        waiter.reject(platformError(result.code, result.message, { retriable: result.retriable, type: TypeError, name }));
      }
    },
    clearAll() {
      pending.clear();
    },
  };
}

/** init.headers as [name, value] pairs: an object, an array of pairs, or anything iterable like Headers. */
function headerList(headers: unknown): [string, string][] {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== "object") throw new TypeError(`ctx.fetch: init.headers: expected an object or a list of pairs, got ${describeValue(headers)}`);
  const pairs: [string, string][] = [];
  const iterator = (headers as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  if (typeof iterator === "function") {
    for (const pair of headers as Iterable<unknown>) {
      const items = pair !== null && typeof pair === "object" ? [...(pair as Iterable<unknown>)] : [];
      if (items.length !== 2) throw new TypeError("ctx.fetch: init.headers: each pair must have exactly two items");
      pairs.push([String(items[0]), String(items[1])]);
    }
  } else {
    for (const name of Object.keys(headers)) pairs.push([name, String((headers as Record<string, unknown>)[name])]);
  }
  for (const [name, value] of pairs) {
    if (!TOKEN.test(name)) throw new TypeError(`ctx.fetch: init.headers: "${name}" is not a valid header name`);
    if (BAD_VALUE.test(value)) throw new TypeError(`ctx.fetch: init.headers.${name}: the value has a NUL, CR or LF`);
  }
  return pairs.map(([name, value]) => [name.toLowerCase(), value.trim()]);
}

function encodeBody(body: unknown, headers: [string, string][], codec: Codec): Uint8Array | null {
  if (body === undefined || body === null) return null;
  const setType = (type: string) => {
    if (!headers.some(([name]) => name === "content-type")) headers.push(["content-type", type]);
  };
  if (typeof body === "string") {
    setType("text/plain;charset=UTF-8");
    return codec.encode(body);
  }
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  if (Object.prototype.toString.call(body) === "[object URLSearchParams]") {
    setType("application/x-www-form-urlencoded;charset=UTF-8");
    return codec.encode(String(body));
  }
  throw new TypeError(`ctx.fetch: init.body: expected a string, Uint8Array, ArrayBuffer or URLSearchParams (JSON.stringify objects), got ${describeValue(body)}`);
}
