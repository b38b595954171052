import type { FunctionState } from "../../../sdk/types.js";
import type { WireStateWrite } from "../wire.js";
import { describeValue } from "./format.js";
import { platformError } from "./platform-error.js";
import { utf8Length } from "./text-codec.js";

/** A key with no state: `get` answers undefined. */
const ABSENT = null;

/** A ctx.state call that can never succeed (a bad key or value): a TypeError, not retried. */
const invalidState = (message: string) => platformError("EDDY_SANDBOX_INVALID_STATE", message, { retriable: false, type: TypeError });
const unavailable = (message: string) => platformError("EDDY_SANDBOX_STATE_UNAVAILABLE", message, { retriable: false, type: TypeError });

/** What the state of one invocation knows: the host's store (read synchronously) and the writes of its records that succeeded. */
export interface InvocationState {
  /** The host's value of `key` in the invocation's partition, as JSON text; null when the key has none. */
  read(key: string): string | null;
  /** Writes of the invocation's records that succeeded so far: later records of the invocation read them. */
  readonly written: Map<string, string | null>;
  /** The same writes, in order, for the host. */
  readonly writes: WireStateWrite[];
}

export interface StateRules {
  /** False when the definition has no `state`: every call throws EDDY_SANDBOX_STATE_UNAVAILABLE. */
  enabled: boolean;
  maxValueBytes: number;
}

/**
 * `ctx.state` for one record's handling (or one handleBatch call). Writes stay with the record until
 * it succeeds (`commit`); a failed record's writes are dropped like its emits. Reads see the record's
 * own writes, then those of the invocation's earlier records, then the host's store. Like ctx.emit, a
 * call that can never succeed throws synchronously and fails the record even when the handler catches it.
 */
export class StateScope {
  /** The record's writes, by key, in the order keys were first written. Made at the first write. */
  #pending: Map<string, string | null> | undefined;
  /** What the handler sees as `ctx.state`. */
  readonly api: FunctionState;
  /** Set when a call threw; `failure` is what it threw. */
  failed = false;
  failure: unknown = undefined;

  /**
   * Made for every record, state or not (the ctx holds `api` as a plain field): the writes' Map comes with the first write.
   * @param ownKey the record's key; null for a record without one; undefined in handleBatch (no own record).
   */
  constructor(
    private readonly ownKey: string | null | undefined,
    private readonly recordIndex: number,
    private readonly invocation: InvocationState,
    private readonly rules: StateRules,
  ) {
    const scope = this;
    this.api = Object.freeze({
      get(...args: unknown[]): Promise<unknown> {
        return scope.#guard(() => Promise.resolve(scope.#get(scope.#key("get", args, 0))));
      },
      set(...args: unknown[]): void {
        scope.#guard(() => {
          const key = scope.#key("set", args, 1);
          scope.#write(key, scope.#encode(key, args[args.length - 1]));
        });
      },
      delete(...args: unknown[]): void {
        scope.#guard(() => scope.#write(scope.#key("delete", args, 0), ABSENT));
      },
    }) as FunctionState;
  }

  /** The record succeeded: its writes become the invocation's (visible to later records) and go to the host. */
  commit(): void {
    if (this.#pending === undefined) return;
    for (const [key, value] of this.#pending) {
      this.invocation.written.set(key, value);
      this.invocation.writes.push({ key, value, recordIndex: this.recordIndex });
    }
  }

  #guard<T>(call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (!this.failed) {
        this.failed = true;
        this.failure = error;
      }
      throw error;
    }
  }

  /** The key a call names: its first argument when it has more than `valueArgs`, else the record's own. */
  #key(method: string, args: unknown[], valueArgs: number): string {
    if (!this.rules.enabled) {
      throw unavailable(`ctx.state.${method}: this function keeps no state; add \`state: {}\` to its definition (ordering "partition" or "key")`);
    }
    if (args.length > valueArgs) {
      const key = args[0];
      if (typeof key !== "string") throw invalidState(`ctx.state.${method}: key: expected a string, got ${describeValue(key)}`);
      return key;
    }
    if (this.ownKey === undefined) {
      throw unavailable(`ctx.state.${method}: handleBatch has no record of its own; name the key, e.g. ctx.state.${method}(event.key${method === "set" ? ", value" : ""})`);
    }
    if (this.ownKey === null) {
      throw unavailable(`ctx.state.${method}: this record has no key, so it has no state of its own; name a key, e.g. ctx.state.${method}("totals"${method === "set" ? ", value" : ""})`);
    }
    return this.ownKey;
  }

  #get(key: string): unknown {
    let json: string | null | undefined = this.#pending?.get(key);
    if (json === undefined) json = this.invocation.written.get(key);
    if (json === undefined) json = this.invocation.read(key);
    // Parsed on every read: the handler may change what it got without changing the state.
    return json === ABSENT ? undefined : JSON.parse(json);
  }

  #encode(key: string, value: unknown): string {
    if (value === undefined) throw invalidState("ctx.state.set: value: expected a JSON value, got undefined (use ctx.state.delete() to remove the state)");
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw invalidState(`ctx.state.set: value: cannot be encoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (json === undefined) throw invalidState(`ctx.state.set: value: cannot be encoded as JSON, got ${describeValue(value)}`);
    const bytes = utf8Length(json) + utf8Length(key);
    if (bytes > this.rules.maxValueBytes) {
      throw invalidState(`ctx.state.set: the value of key ${JSON.stringify(key.slice(0, 64))} is ${bytes} bytes as JSON (with its key); the limit is ${this.rules.maxValueBytes} bytes (maxStateValueBytes)`);
    }
    return json;
  }

  #write(key: string, value: string | null): void {
    (this.#pending ??= new Map()).set(key, value);
  }
}
