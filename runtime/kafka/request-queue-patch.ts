import { createRequire } from "node:module";

/** The parts of kafkajs' RequestQueue (one per broker connection) that the patch touches. */
interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId?: NodeJS.Timeout;
  inflight: Map<unknown, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  isConnected(): boolean;
  destroy(): void;
}

interface RequestQueueClass {
  prototype: RequestQueueState & {
    scheduleCheckPendingRequests(this: RequestQueueState): void;
    scheduleRequestTimeoutCheck(this: RequestQueueState): void;
  };
}

/** How often a connection looks for requests past their timeout (kafkajs: every 100 ms). */
export const REQUEST_TIMEOUT_CHECK_MS = 1_000;

const PATCHED = Symbol.for("eddy.kafkajs.requestQueuePatched");

/**
 * Two timers of kafkajs 2.2.4's that wake an idle process for nothing, on every broker connection:
 * - It re-arms a timer with a negative delay (so 1 ms) after every check of a connection's queue, even
 *   when nothing waits in it: a thousand wake-ups a second, about 4 % of a core for an idle consumer
 *   (tulios/kafkajs#1556, fix proposed in #1667, never released). With nothing pending and no broker
 *   throttle, there is nothing to check later: a request that has to wait is queued by `push`, which
 *   schedules its own check.
 * - It looks for requests past their timeout every 100 ms: a worker's four or so connections woke it
 *   some 40 times a second while idle (0.8 % of a core, most of an idle worker's). Once a second is
 *   plenty for timeouts of several seconds (30 s by default): a request times out at most a second late.
 * Applied once per process, to every client.
 */
export function patchKafkaRequestQueue(RequestQueue: RequestQueueClass = loadRequestQueue()): void {
  const prototype = RequestQueue.prototype as RequestQueueClass["prototype"] & { [PATCHED]?: true };
  if (prototype[PATCHED]) return;
  const schedule = prototype.scheduleCheckPendingRequests;
  prototype.scheduleCheckPendingRequests = function (this: RequestQueueState) {
    if (this.pending.length === 0 && this.throttledUntil <= Date.now()) return;
    schedule.call(this);
  };
  // kafkajs' own method, with the interval REQUEST_TIMEOUT_CHECK_MS instead of 100 ms.
  prototype.scheduleRequestTimeoutCheck = function (this: RequestQueueState) {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(() => {
      this.inflight.forEach((request) => {
        if (Date.now() - request.sentAt > request.requestTimeout) request.timeoutRequest();
      });
      if (!this.isConnected()) this.destroy();
    }, Math.min(this.requestTimeout, REQUEST_TIMEOUT_CHECK_MS));
  };
  prototype[PATCHED] = true;
}

function loadRequestQueue(): RequestQueueClass {
  return createRequire(import.meta.url)("kafkajs/src/network/requestQueue/index.js") as RequestQueueClass;
}
