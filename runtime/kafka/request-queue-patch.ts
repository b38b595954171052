import { createRequire } from "node:module";

/** The parts of kafkajs' RequestQueue (one per broker connection) that the patch touches. */
interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
}

interface RequestQueueClass {
  prototype: RequestQueueState & { scheduleCheckPendingRequests(this: RequestQueueState): void };
}

const PATCHED = Symbol.for("eddy.kafkajs.requestQueuePatched");

/**
 * kafkajs 2.2.4 re-arms a timer with a negative delay (so 1 ms) after every check of a connection's
 * queue, even when nothing waits in it: each connection wakes the process a thousand times a second,
 * about 4 % of a core for an idle consumer (tulios/kafkajs#1556, fix proposed in #1667, never released).
 * With nothing pending and no broker throttle, there is nothing to check later: a request that has to
 * wait is queued by `push`, which schedules its own check. Applied once per process, to every client.
 */
export function patchKafkaRequestQueue(RequestQueue: RequestQueueClass = loadRequestQueue()): void {
  const prototype = RequestQueue.prototype as RequestQueueClass["prototype"] & { [PATCHED]?: true };
  if (prototype[PATCHED]) return;
  const schedule = prototype.scheduleCheckPendingRequests;
  prototype.scheduleCheckPendingRequests = function (this: RequestQueueState) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  prototype[PATCHED] = true;
}

function loadRequestQueue(): RequestQueueClass {
  return createRequire(import.meta.url)("kafkajs/src/network/requestQueue/index.js") as RequestQueueClass;
}
