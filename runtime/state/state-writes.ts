import type { TopicMessages } from "../dispatcher/kafka-records.js";
import type { InvocationResult, RecordOutcome } from "../sandbox/function-sandbox.js";
import { sandboxFailure } from "../sandbox/serialized-error.js";
import { changelogMessages } from "./changelog.js";
import type { StateStore } from "./state-store.js";

/** Where a dispatcher keeps its function's state: the worker's store and the changelog topic. */
export interface FunctionStateHome {
  store: StateStore;
  topic: string;
}

/**
 * Takes an invocation's state writes into the store and returns them as changelog records, to be
 * written with the invocation's emits (in its transaction with "exactly-once"). Writes that would
 * grow the store past `state.maxBytes` are refused: their records fail with EDDY_STATE_FULL (not
 * retried, so they are dead-lettered, never lost) and lose their emits; `result` is changed in place.
 */
export function applyStateWrites(home: FunctionStateHome, partition: number, result: InvocationResult): TopicMessages[] {
  const writes = result.stateWrites;
  if (writes === undefined || writes.length === 0) return [];
  const { store } = home;
  // Only growth past the limit is refused: a store already over it (restored after scaling in, or a
  // lowered limit) still takes writes that shrink it, deletes above all.
  const after = store.bytesAfter(partition, writes);
  if (after > store.maxBytes && after > store.bytes) {
    const indexes = new Set(writes.map((w) => w.recordIndex));
    const full = sandboxFailure(
      "EDDY_STATE_FULL",
      `ctx.state: this worker's state would grow past state.maxBytes (${store.maxBytes} bytes, ${store.bytes} held): raise state.maxBytes, or delete keys the function no longer needs`,
      false,
    );
    const failed: RecordOutcome = { status: "failed", error: full };
    result.outcomes = result.outcomes.map((outcome, i) => (indexes.has(i) || indexes.has(-1) ? failed : outcome));
    result.emitted = result.emitted.filter((e) => !indexes.has(e.recordIndex) && !indexes.has(-1));
    delete result.stateWrites;
    return [];
  }
  store.apply(partition, writes);
  return changelogMessages(home.topic, partition, writes);
}
