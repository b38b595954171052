/**
 * One Kafka record as a function sees it.
 *
 * @example
 * ```ts
 * async handle(event, ctx) {
 *   ctx.log.info(`${event.topic}/${event.partition}@${event.offset}`, event.key);
 *   const order = event.json<{ id: string }>();
 * }
 * ```
 */
export interface EddyEvent {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit, so they travel as decimal strings. */
  readonly offset: string;
  /** Record timestamp in milliseconds since the epoch. */
  readonly timestamp: number;
  /** The key as UTF-8 text, or null when the record has none. */
  readonly key: string | null;
  /** The raw value, or null for a tombstone. */
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The value decoded as UTF-8 (invalid bytes become U+FFFD); "" for a tombstone. */
  text(): string;
  /** The value parsed as JSON; null for a tombstone. Throws a SyntaxError naming the record when it is not JSON. */
  json<T = unknown>(): T;
  /** Set when the record is a CloudEvent (Kafka protocol binding, binary or structured mode). */
  readonly cloudEvent?: CloudEvent;
}

/**
 * The CloudEvents 1.0 attributes of a record that carries a CloudEvent.
 *
 * @example
 * ```ts
 * if (event.cloudEvent?.type === "com.example.order.created") { ... }
 * ```
 */
export interface CloudEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly data?: unknown;
  /** Any further extension attributes, by name. */
  readonly extensions?: Readonly<Record<string, string>>;
}

/**
 * What `ctx.emit` accepts: a Uint8Array is sent as is, a string as UTF-8, anything else as JSON
 * (UTF-8), and null as a tombstone.
 *
 * @example
 * ```ts
 * await ctx.emit("audit", "plain text");
 * await ctx.emit("orders.enriched", { id: 1, total: 42 });
 * await ctx.emit("blobs", new Uint8Array([1, 2, 3]));
 * ```
 */
export type EmitValue = Uint8Array | string | number | boolean | null | object;

/**
 * Options of `ctx.emit`.
 *
 * @example
 * ```ts
 * await ctx.emit("emails", { to }, { key: event.key, headers: { "x-source": "orders" } });
 * ```
 */
export interface EmitOptions {
  key?: string | null;
  headers?: Record<string, string>;
}

/**
 * `ctx.log`: arguments are formatted like `console.log` and land in the function's logs.
 *
 * @example
 * ```ts
 * ctx.log.warn("order without lines", order.id);
 * ```
 */
export interface FunctionLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/**
 * The one context object a handler gets next to its event(s).
 *
 * @example
 * ```ts
 * async handle(event, ctx) {
 *   if (ctx.attempt > 1) ctx.log.info("retrying", event.offset);
 *   await ctx.emit("out", { seen: event.offset, region: ctx.env.REGION });
 * }
 * ```
 */
export interface Context {
  /**
   * Queues a record for `topic`. Records are produced only when the invocation succeeds, before the
   * source offset is committed; the emits of a failed record are dropped. Throws at once (and the
   * record fails, even if the handler catches it) for a bad topic or value, one of Eddy's own topics,
   * or a record or invocation over the emit limits.
   */
  emit(topic: string, value: EmitValue, options?: EmitOptions): Promise<void>;
  /**
   * HTTP(S) through the worker, only to hosts listed in the function's `egress` (`host` or
   * `host:port`), checked again after every redirect. The body is read whole (up to the response
   * size limit) before the promise resolves. Rejects with a TypeError whose `code` says why:
   * EDDY_SANDBOX_EGRESS_DENIED, EDDY_SANDBOX_FETCH_FAILED, EDDY_SANDBOX_FETCH_TIMEOUT,
   * EDDY_SANDBOX_FETCH_TOO_LARGE, EDDY_SANDBOX_LIMIT.
   */
  fetch(input: string | { readonly href: string } | { readonly url: string }, init?: FetchInit): Promise<FetchResponse>;
  readonly log: FunctionLogger;
  /** The function's configured variables (`env` in its configuration). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Per-key state, for functions with `state` in their definition (ordering "partition" or "key").
   * Without a key argument the calls act on the record's own key; with one, on another key of the
   * same partition (in handleBatch the key is always named). Writes count only if the record succeeds.
   */
  readonly state: FunctionState;
  /** 1 on the first attempt at these records, 2 on the first retry, … */
  readonly attempt: number;
  readonly function: { readonly name: string; readonly version: number };
}

/**
 * `ctx.state`: JSON values per key, kept in the function's changelog topic `<name>.state` and restored
 * wherever its partition runs next. `set` and `delete` take effect when the record succeeds (written
 * with its emits and offsets: in one transaction with "exactly-once"); reads see the record's own
 * writes at once. A value (as JSON, with its key) may be up to 1 MiB.
 *
 * @example
 * ```ts
 * async handle(event, ctx) {
 *   const count = (await ctx.state.get<number>()) ?? 0;
 *   ctx.state.set(count + 1);
 *   const totals = await ctx.state.get<{ n: number }>("totals");
 * }
 * ```
 */
export interface FunctionState {
  /** The record's own key's value, or undefined when it has none. */
  get<T = unknown>(): Promise<T | undefined>;
  /** Another key's value (same partition), or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Sets the record's own key's value (any JSON value; null is a value, not a delete). */
  set(value: unknown): void;
  set(key: string, value: unknown): void;
  /** Removes the record's own key's value (a tombstone in the changelog). */
  delete(): void;
  delete(key: string): void;
}

/**
 * The options of `ctx.fetch`: a subset of the Fetch standard's RequestInit.
 *
 * @example
 * ```ts
 * const res = await ctx.fetch("https://api.example.com/orders", {
 *   method: "POST",
 *   headers: { "content-type": "application/json", authorization: `Bearer ${ctx.env.API_TOKEN}` },
 *   body: JSON.stringify(order),
 * });
 * ```
 */
export interface FetchInit {
  /** Default "GET". */
  method?: string;
  headers?: Record<string, string> | Iterable<readonly [string, string]>;
  /** A string (sent as UTF-8), bytes, or URLSearchParams; JSON.stringify objects yourself. */
  body?: string | Uint8Array | ArrayBuffer | ArrayBufferView | object | null;
  /** "follow" (default; every hop must be in egress), "manual" (the 3xx is the answer) or "error". */
  redirect?: "follow" | "manual" | "error";
}

/**
 * Response headers, case-insensitive.
 *
 * @example
 * ```ts
 * const type = res.headers.get("content-type");
 * ```
 */
export interface FetchHeaders extends Iterable<[string, string]> {
  get(name: string): string | null;
  getSetCookie(): string[];
  has(name: string): boolean;
  forEach(callback: (value: string, name: string) => void): void;
  entries(): IterableIterator<[string, string]>;
  keys(): IterableIterator<string>;
  values(): IterableIterator<string>;
}

/**
 * What `ctx.fetch` resolves to: a Response-like object whose body is already in memory and can be
 * read once.
 *
 * @example
 * ```ts
 * const res = await ctx.fetch("https://api.example.com/rates");
 * if (res.status === 429) throw new RetryAfterError("rate limited", 30_000);
 * const rates = await res.json();
 * ```
 */
export interface FetchResponse {
  readonly status: number;
  readonly statusText: string;
  /** status is 200 to 299. */
  readonly ok: boolean;
  readonly headers: FetchHeaders;
  /** The final URL, after redirects. */
  readonly url: string;
  readonly redirected: boolean;
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  clone(): FetchResponse;
}
