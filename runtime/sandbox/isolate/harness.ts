// The code that runs inside every function isolate before the function's bundle: it installs the
// globals, loads the definition, runs invocations and hands results back to the host. Bundled by
// harness-script.ts into one classic script.
import { ERROR_CODE_PROPERTY, SdkErrorCode } from "../../../sdk/errors.js";
import { createEvent, type EventRecord } from "../../../sdk/event.js";
import type { Context, EddyEvent, FunctionLogger } from "../../../sdk/types.js";
import type { SandboxErrorCode } from "../errors.js";
import type { SerializedError } from "../serialized-error.js";
import type { RecordOutcome } from "../types.js";
import {
  BUNDLE_GLOBAL_NAME,
  INSTALL_GLOBAL_NAME,
  type HarnessApi,
  type HarnessEnvironment,
  type HostFunctions,
  type InvocationOrder,
  type SentResult,
  type WireEmit,
} from "../wire.js";
import { loadDefinition, type LoadedFunction } from "./definition.js";
import { validateEvent } from "./event-schema.js";
import { EmitScope, type EmitBudget, type EmitRules } from "./emit.js";
import { createFetchClient } from "./fetch.js";
import { describeValue, safe } from "./format.js";
import { installGlobals } from "./globals.js";
import { LogBudget } from "./log-budget.js";
import { packEmits } from "./pack-emits.js";
import { serializeError } from "./serialize-error.js";
import { StateScope, type InvocationState, type StateRules } from "./state.js";
import { EddyTextDecoder, EddyTextEncoder } from "./text-codec.js";
import { createTimers } from "./timers.js";
import { unpackBatch } from "./unpack-batch.js";
import { createUrlClasses } from "./url.js";

interface Invocation {
  id: number;
  outcomes: (RecordOutcome | null)[];
  emitted: WireEmit[];
  /** What the invocation emitted so far (its emit limits count here). */
  emitBudget: EmitBudget;
  /** Its ctx.fetch calls so far, and its id (the host puts the fetch in the invocation's trace). */
  quota: { fetches: number; invocation: number };
  /** Its ctx.log: lines say which invocation wrote them (the host adds the invocation's trace ids). */
  logger: FunctionLogger;
  /** Its ctx.state: what its succeeded records wrote, read through to the host's store. */
  state: InvocationState;
  /** Settled, or abandoned by the host (timeout): nothing more is recorded. */
  done: boolean;
}

const OK: RecordOutcome = { status: "ok" };
const SKIPPED: RecordOutcome = { status: "skipped" };

function install(
  log: HostFunctions["log"],
  setTimer: HostFunctions["setTimer"],
  clearTimer: HostFunctions["clearTimer"],
  settle: HostFunctions["settle"],
  fetch: HostFunctions["fetch"],
  parseUrl: HostFunctions["parseUrl"],
  setUrlPart: HostFunctions["setUrlPart"],
  randomBytes: HostFunctions["randomBytes"],
  stateGet: HostFunctions["stateGet"],
  environment: HarnessEnvironment,
): HarnessApi {
  delete (globalThis as Record<string, unknown>)[INSTALL_GLOBAL_NAME];
  const host: HostFunctions = { log, setTimer, clearTimer, settle, fetch, parseUrl, setUrlPart, randomBytes, stateGet };
  const { limits } = environment;
  const invocations = new Map<number, Invocation>();
  const active = () => invocations.size > 0;
  const timers = createTimers(host, active, limits.maxPendingTimers);
  const encoder = new EddyTextEncoder();
  const decoder = new EddyTextDecoder();
  const codec = { encode: (text: string) => encoder.encode(text), decode: (bytes: Uint8Array) => decoder.decode(bytes) };
  const logs = new LogBudget(host, limits.maxLogLinesPerInvocation);
  const urls = createUrlClasses(host, codec);
  const fetches = createFetchClient(host, limits, codec, (input) => new urls.URL(input) as { href: string; protocol: string });
  installGlobals(host, timers, logs, urls);

  const emitRules: EmitRules = { limits, reserved: environment.reservedTopics, encoder };
  const stateRules: StateRules = { enabled: environment.state, maxValueBytes: limits.maxStateValueBytes };
  const env = Object.freeze({ ...environment.env });
  const fn = Object.freeze({ ...environment.function });
  const loggerFor = (invocationId: number): FunctionLogger => {
    const write = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) => logs.write(level, args, invocationId);
    return Object.freeze({ debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") });
  };
  let loaded: LoadedFunction | undefined;

  // A fresh, frozen ctx per record: nothing one record's handling does to it reaches the next.
  const contextFor = (scope: EmitScope, state: StateScope, attempt: number, invocation: Invocation): Context =>
    Object.freeze({
      emit: scope.emit,
      fetch: (input: unknown, init?: unknown) => fetches.fetch(invocation.quota, input, init),
      log: invocation.logger,
      // A plain field: a getter here made every record's ctx about 2.5 µs dearer (an accessor defeats V8's literal fast path).
      state: state.api,
      env,
      attempt,
      function: fn,
    }) as Context;

  function end(invocation: Invocation): void {
    invocation.done = true;
    invocations.delete(invocation.id);
    if (invocations.size === 0) {
      timers.clearAll();
      fetches.clearAll();
    }
  }

  function resultOf(invocation: Invocation): SentResult {
    const { outcomes } = invocation;
    let allOk = true;
    for (let i = 0; i < outcomes.length && allOk; i++) allOk = outcomes[i] === OK;
    // All succeeded: the count crosses instead of an array of outcomes.
    const result: SentResult = { outcomes: allOk ? outcomes.length : outcomes, emitted: packEmits(invocation.emitted), logsDropped: logs.takeDropped() };
    if (invocation.state.writes.length > 0) result.stateWrites = invocation.state.writes;
    return result;
  }

  function finish(invocation: Invocation): void {
    if (invocation.done) return;
    end(invocation);
    const result = resultOf(invocation);
    try {
      host.settle(invocation.id, result);
    } catch (error) {
      // Only a tampered result fails to copy; the host then gets every record failed instead.
      const failure = serializeError(error);
      host.settle(invocation.id, { outcomes: invocation.outcomes.map(() => ({ status: "failed", error: failure })), emitted: null, logsDropped: 0 });
    }
  }

  function failRest(invocation: Invocation, error: SerializedError): void {
    for (let i = 0; i < invocation.outcomes.length; i++) {
      if (invocation.outcomes[i] === null) invocation.outcomes[i] = { status: "failed", error };
    }
  }

  /**
   * `handle` over the records: one after another with order "sequential"; with "by-key" the records
   * of different keys run concurrently, each key's in order (a record without a key has no order to
   * keep); with "none" every record runs concurrently. With stopOnFailure a failed record skips the
   * later records of its own key (all later records when sequential).
   */
  async function runRecords(
    invocation: Invocation,
    handle: (event: EddyEvent, ctx: Context) => unknown,
    records: EventRecord[],
    attempt: number,
    stopOnFailure: boolean,
    order: InvocationOrder,
  ): Promise<void> {
    if (order === "sequential" || records.length === 1) {
      await runLane(invocation, handle, records, allIndexes(records.length), attempt, stopOnFailure);
      return;
    }
    const lanes = new Map<string | number, number[]>();
    for (let i = 0; i < records.length; i++) {
      const key = records[i]!.key;
      const lane = order === "by-key" && key !== null ? key : i;
      const list = lanes.get(lane);
      if (list === undefined) lanes.set(lane, [i]);
      else list.push(i);
    }
    const running: Promise<void>[] = [];
    for (const indexes of lanes.values()) running.push(runLane(invocation, handle, records, indexes, attempt, stopOnFailure));
    await Promise.all(running);
  }

  async function runLane(
    invocation: Invocation,
    handle: (event: EddyEvent, ctx: Context) => unknown,
    records: EventRecord[],
    indexes: number[],
    attempt: number,
    stopOnFailure: boolean,
  ): Promise<void> {
    const schema = loaded?.schema;
    let failed = false;
    for (const i of indexes) {
      if (invocation.done) return;
      if (failed && stopOnFailure) {
        invocation.outcomes[i] = SKIPPED;
        continue;
      }
      const scope = new EmitScope(i, invocation.emitBudget, emitRules);
      const state = new StateScope(records[i]!.key, i, invocation.state, stateRules);
      let error: unknown;
      let threw = false;
      try {
        const event = createEvent(records[i]!);
        // A record that does not match the schema never reaches the handler.
        if (schema !== undefined) await validateEvent(schema, event);
        await handle(event, contextFor(scope, state, attempt, invocation));
      } catch (thrown) {
        threw = true;
        error = thrown;
      }
      scope.close();
      if (invocation.done) return;
      // An emit or state call that threw fails its record even when the handler caught it: its output is incomplete.
      if (!threw && (scope.failed || state.failed)) {
        threw = true;
        error = scope.failed ? scope.failure : state.failure;
      }
      if (threw) {
        invocation.outcomes[i] = { status: "failed", error: serializeError(error) };
        failed = true;
      } else {
        invocation.outcomes[i] = OK;
        for (const emit of scope.emits) invocation.emitted.push(emit);
        state.commit();
      }
    }
  }

  async function runBatch(
    invocation: Invocation,
    handleBatch: (events: EddyEvent[], ctx: Context) => unknown,
    records: EventRecord[],
    attempt: number,
  ): Promise<void> {
    const all = records.map(createEvent);
    // Records that do not match the schema fail alone and never reach the handler; the others make the batch.
    const positions: number[] = [];
    const schema = loaded?.schema;
    for (let i = 0; i < all.length; i++) {
      try {
        if (schema !== undefined) await validateEvent(schema, all[i]!);
        positions.push(i);
      } catch (error) {
        invocation.outcomes[i] = { status: "failed", error: serializeError(error) };
      }
    }
    if (invocation.done || positions.length === 0) return;
    const events = positions.map((i) => all[i]!);
    const scope = new EmitScope(-1, invocation.emitBudget, emitRules);
    const state = new StateScope(undefined, -1, invocation.state, stateRules);
    let failedList: unknown;
    let itemError: SerializedError;
    try {
      const result = await handleBatch(events, contextFor(scope, state, attempt, invocation));
      scope.close();
      if (scope.failed || state.failed) {
        if (!invocation.done) failRest(invocation, serializeError(scope.failed ? scope.failure : state.failure));
        return;
      }
      failedList = result === null || typeof result !== "object" ? undefined : (result as { failed?: unknown }).failed;
      itemError = { name: "BatchItemFailures", message: "handleBatch returned this record in `failed`", code: SdkErrorCode.BatchItemFailures, retriable: true };
    } catch (error) {
      scope.close();
      if (invocation.done) return;
      if (scope.failed || state.failed) {
        failRest(invocation, serializeError(scope.failed ? scope.failure : state.failure));
        return;
      }
      if (safe(() => (error as Record<string, unknown>)[ERROR_CODE_PROPERTY], undefined) !== SdkErrorCode.BatchItemFailures) {
        failRest(invocation, serializeError(error));
        return;
      }
      failedList = safe(() => (error as { failed?: unknown }).failed, null);
      itemError = serializeError(error);
    }
    if (invocation.done) return;
    const failed = failedList === undefined ? new Set<number>() : matchFailed(events, failedList);
    if (typeof failed === "string") {
      const code: SandboxErrorCode = "EDDY_SANDBOX_INVALID_BATCH_RESULT";
      failRest(invocation, { name: "TypeError", message: failed, code, retriable: true });
      return;
    }
    for (let j = 0; j < events.length; j++) invocation.outcomes[positions[j]!] = failed.has(j) ? { status: "failed", error: itemError } : OK;
    // The batch's emits and state writes cannot be told apart by record: when some records succeeded
    // they are all kept (a retry of the failed ones may write again: at least once), when none did they are dropped.
    if (failed.size < events.length) {
      for (const emit of scope.emits) invocation.emitted.push(emit);
      state.commit();
    }
  }

  return {
    load() {
      const outcome = loadDefinition((globalThis as Record<string, unknown>)[BUNDLE_GLOBAL_NAME]);
      if (!outcome.ok) return outcome;
      loaded = outcome.fn;
      return { ok: true, info: outcome.info };
    },

    invoke(invocationId, batch, attempt, stopOnFailure, order, stateValues) {
      const records = unpackBatch(batch);
      const invocation: Invocation = {
        id: invocationId,
        outcomes: records.map(() => null),
        emitted: [],
        emitBudget: { bytes: 0, count: 0 },
        quota: { fetches: 0, invocation: invocationId },
        logger: loggerFor(invocationId),
        state: {
          // The batch's own keys came with it; any other key is asked of the host.
          read: (key) => (stateValues !== null && Object.hasOwn(stateValues, key) ? stateValues[key]! : host.stateGet(invocationId, key)),
          written: new Map(),
          writes: [],
        },
        done: false,
      };
      logs.open(invocations.size === 0);
      invocations.set(invocationId, invocation);
      if (loaded === undefined) {
        failRest(invocation, { name: "Error", message: "the function is not loaded", retriable: true });
        finish(invocation);
        return;
      }
      const run =
        loaded.handler === "handle"
          ? runRecords(invocation, loaded.call, records, attempt, stopOnFailure, order)
          : runBatch(invocation, loaded.call, records, attempt);
      run.then(
        () => finish(invocation),
        (error: unknown) => {
          failRest(invocation, serializeError(error));
          finish(invocation);
        },
      );
    },

    fireTimer(timerId) {
      timers.fire(timerId);
    },

    fetchesSettled(results) {
      for (const [fetchId, result] of results) fetches.settled(fetchId, result);
    },

    collect(invocationId) {
      const invocation = invocations.get(invocationId);
      if (invocation === undefined || invocation.done) return null;
      end(invocation);
      return resultOf(invocation);
    },
  };
}

function allIndexes(count: number): number[] {
  const indexes = new Array<number>(count);
  for (let i = 0; i < count; i++) indexes[i] = i;
  return indexes;
}

/** The indexes of the events in `failed`, matched by identity, else by topic, partition and offset; or a problem. */
function matchFailed(events: EddyEvent[], failed: unknown): Set<number> | string {
  if (!Array.isArray(failed)) return `handleBatch: failed: expected an array of this batch's events, got ${describeValue(failed)}`;
  const byIdentity = new Map<unknown, number>(events.map((event, i) => [event, i]));
  let byPosition: Map<string, number> | undefined;
  const indexes = new Set<number>();
  for (let j = 0; j < failed.length; j++) {
    const item: unknown = failed[j];
    let index = byIdentity.get(item);
    if (index === undefined && item !== null && typeof item === "object") {
      byPosition ??= new Map(events.map((event, i) => [position(event), i]));
      index = byPosition.get(safe(() => position(item as EddyEvent), ""));
    }
    if (index === undefined) return `handleBatch: failed[${j}]: expected one of this batch's events, got ${describeValue(item)}`;
    indexes.add(index);
  }
  return indexes;
}

function position(event: Pick<EddyEvent, "topic" | "partition" | "offset">): string {
  return `${String(event.topic)}\u0000${String(event.partition)}\u0000${String(event.offset)}`;
}

(globalThis as Record<string, unknown>)[INSTALL_GLOBAL_NAME] = install;
