import type { StandardSchemaV1 } from "./standard-schema.js";
import type { Context, EddyEvent } from "./types.js";

/**
 * Validators for a function's records (any Standard Schema: zod, valibot, arktype…). `value` checks
 * the value parsed as JSON (null for a tombstone), `key` the key (a string, or null). A record that
 * fails never reaches the handler: it is dead-lettered at once, with the issues in
 * `eddy-dlt-error-message`. The value's output is the event's `data`.
 *
 * @example
 * ```ts
 * const schema = { value: z.object({ id: z.string(), total: z.number() }) };
 * ```
 */
export interface EventSchema {
  value?: StandardSchemaV1;
  key?: StandardSchemaV1;
}

/** The event a handler gets: with a value schema, `data` is the validated value, typed as the schema's output. */
export type TypedEvent<S extends EventSchema | undefined> = S extends { value: infer V extends StandardSchemaV1 }
  ? EddyEvent & { readonly data: StandardSchemaV1.InferOutput<V> }
  : EddyEvent;

/**
 * Everything a function may configure besides its name, topics and handler (SPEC §3); every field
 * is optional and defaults as documented on it.
 *
 * @example
 * ```ts
 * const config: FunctionConfig = { batch: { maxSize: 500 }, ordering: "key", retry: { maxAttempts: 3 } };
 * ```
 */
export interface FunctionConfig {
  batch?: {
    /** Records per invocation. Default 100. */
    maxSize?: number;
    /** How long to gather a batch. Default 10. */
    maxWaitMs?: number;
  };
  /** "partition" (default): one in flight per partition; "key": per key in order, keys in parallel; "none". */
  ordering?: "partition" | "key" | "none";
  /** Invocations in flight per replica with ordering "key" or "none". Default 16. */
  concurrency?: number;
  retry?: {
    /** Attempts per record, the first included. Default 5. */
    maxAttempts?: number;
    /** Default { initialMs: 100, multiplier: 2, maxMs: 10000, jitter: "full" }. */
    backoff?: { initialMs?: number; multiplier?: number; maxMs?: number; jitter?: "full" | "none" };
  };
  /** Default { topic: "<name>.dlt" }; topic false = never dead-letter (retry until success). */
  deadLetter?: { topic?: string | false };
  /** Default { consecutiveFailures: 5, openMs: 5000, maxOpenMs: 60000, halfOpenProbes: 1 }. */
  circuitBreaker?: { consecutiveFailures?: number; openMs?: number; maxOpenMs?: number; halfOpenProbes?: number };
  /** Per invocation; must stay below the consumer session timeout. Default 30000. */
  timeoutMs?: number;
  /** Isolate heap limit. Default 128. */
  memoryMb?: number;
  /** Where a new consumer group starts. Default "latest". */
  startFrom?: "earliest" | "latest";
  /** Default "at-least-once". */
  delivery?: "at-least-once" | "exactly-once";
  /** What ctx.fetch may reach: `host` (any port) or `host:port`. Default []. */
  egress?: string[];
  /** Variables visible as ctx.env. Default {}. */
  env?: Record<string, string>;
  /**
   * How the function's replicas follow its consumer lag (SPEC §7). Default { minReplicas: 0, maxReplicas: <partitions>,
   * lagThreshold: 100, activationLagThreshold: 0, scaleToZeroAfterMs: 60000, pollIntervalMs: 1000, stableWindowMs: 60000,
   * minChangeIntervalMs: 10000 }.
   */
  scaling?: {
    minReplicas?: number;
    maxReplicas?: number;
    /** Records of lag one replica is expected to hold: wanted replicas ≥ lag ÷ lagThreshold. */
    lagThreshold?: number;
    /** A function at zero replicas starts one when its lag exceeds this. */
    activationLagThreshold?: number;
    /** With minReplicas 0: how long with no lag and no new records before the last replica stops. */
    scaleToZeroAfterMs?: number;
    /** How often lag is read. */
    pollIntervalMs?: number;
    /** How long load must stay lower before replicas are removed; the panic window is a tenth of it. */
    stableWindowMs?: number;
    /** Least time between two changes of the replica count (activation and panic excepted). */
    minChangeIntervalMs?: number;
  };
  /**
   * Per-key state (`ctx.state`), kept in the compacted changelog topic `<name>.state` and in each
   * worker's memory for the partitions it owns. Needs ordering "partition" or "key". Absent: no state.
   * Default { maxBytes: 67108864 } (64 MiB of keys and values per worker).
   */
  state?: { maxBytes?: number };
}

/**
 * What `handleBatch` may return to fail only some records; the others succeed.
 *
 * @example
 * ```ts
 * return { failed: events.filter((e) => !isValid(e)) };
 * ```
 */
export interface BatchResult {
  failed: readonly EddyEvent[];
}

interface FunctionIdentity extends FunctionConfig {
  /** [a-z0-9-]{1,63} */
  name: string;
  topics: readonly string[];
}

interface Validated<S extends EventSchema | undefined> {
  /** Validates each record before the handler sees it (see EventSchema). Absent: records are not checked. */
  schema?: S;
}

/**
 * A function that handles one record at a time: records of a batch are handled in order, each
 * awaited before the next.
 *
 * @example
 * ```ts
 * const def: RecordFunctionDefinition = { name: "echo", topics: ["in"], handle: (e, ctx) => ctx.emit("out", e.text()) };
 * ```
 */
export interface RecordFunctionDefinition<S extends EventSchema | undefined = undefined> extends FunctionIdentity, Validated<S> {
  handle(event: TypedEvent<S>, ctx: Context): void | Promise<void>;
  handleBatch?: never;
}

/**
 * A function that handles a whole batch in one call.
 *
 * @example
 * ```ts
 * const def: BatchFunctionDefinition = { name: "bulk", topics: ["in"], async handleBatch(events) { await save(events); } };
 * ```
 */
export interface BatchFunctionDefinition<S extends EventSchema | undefined = undefined> extends FunctionIdentity, Validated<S> {
  handleBatch(events: TypedEvent<S>[], ctx: Context): void | BatchResult | Promise<void | BatchResult>;
  handle?: never;
}

/**
 * A function definition: configuration first, one handler last.
 *
 * @example
 * ```ts
 * const definitions: FunctionDefinition[] = [echo, bulk];
 * ```
 */
export type FunctionDefinition<S extends EventSchema | undefined = undefined> = RecordFunctionDefinition<S> | BatchFunctionDefinition<S>;

/**
 * Declares a function. Returns the definition unchanged; it exists for the types (the handler's
 * `event` and `ctx` are inferred) and is what a function module exports by default.
 *
 * @example
 * ```ts
 * import { defineFunction, NonRetriableError } from "eddy/sdk";
 *
 * export default defineFunction({
 *   name: "order-confirmation",
 *   topics: ["orders"],
 *   async handle(event, ctx) {
 *     const order = event.json<{ id: string; email: string }>();
 *     if (!order.email) throw new NonRetriableError("order without email");
 *     await ctx.emit("emails", { to: order.email, orderId: order.id }, { key: event.key });
 *   },
 * });
 * ```
 */
export function defineFunction<const D extends FunctionDefinition>(definition: D): D;
export function defineFunction<const S extends EventSchema, const D extends FunctionDefinition<S>>(definition: D & { schema: S }): D;
export function defineFunction(definition: FunctionDefinition<EventSchema | undefined>): FunctionDefinition<EventSchema | undefined> {
  // Where the definition was written, for eddy/testing's testFunction(definition), which bundles that
  // file into an isolate. A symbol: not configuration, never copied to the control plane.
  const definedAt = callerFile(new Error().stack);
  if (definedAt !== undefined && Object.isExtensible(definition)) Object.defineProperty(definition, DEFINED_AT, { value: definedAt });
  return definition;
}

/** The property where defineFunction leaves the file that called it. */
export const DEFINED_AT: unique symbol = Symbol.for("eddy.definedAt") as never;

/** The file of the first stack frame outside this module (a path or file: URL), if the stack names one. */
function callerFile(stack: string | undefined): string | undefined {
  const frames = (stack ?? "").split("\n").slice(1);
  for (const frame of frames) {
    const match = /((?:file:\/\/)?\/[^()]*?):\d+:\d+\)?$/.exec(frame.trim());
    if (match === null || /define-function\.[cm]?[jt]s$/.test(match[1]!)) continue;
    return match[1];
  }
  return undefined;
}
