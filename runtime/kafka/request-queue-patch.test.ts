import { createRequire } from "node:module";
import { afterEach, describe, expect, it, vi } from "vitest";
import { patchKafkaRequestQueue, REQUEST_TIMEOUT_CHECK_MS } from "./request-queue-patch.js";

/** kafkajs' own RequestQueue, patched as the runtime patches it. */
const RequestQueue = createRequire(import.meta.url)("kafkajs/src/network/requestQueue/index.js");
patchKafkaRequestQueue(RequestQueue);

function queue(state: { pending: unknown[]; throttledUntil: number }) {
  const q = Object.assign(Object.create(RequestQueue.prototype), { throttleCheckTimeoutId: null, checkPendingRequests: () => undefined }, state);
  queues.push(q);
  return q;
}
const queues: { throttleCheckTimeoutId: NodeJS.Timeout | null }[] = [];

describe("patchKafkaRequestQueue", () => {
  afterEach(() => {
    for (const q of queues.splice(0)) clearTimeout(q.throttleCheckTimeoutId ?? undefined);
  });

  it("arms no timer when nothing is pending and the broker does not throttle (kafkajs armed a 1 ms one)", () => {
    const idle = queue({ pending: [], throttledUntil: -1 });
    idle.scheduleCheckPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it("still checks later when a request waits, or when the broker throttles", () => {
    const waiting = queue({ pending: [{}], throttledUntil: -1 });
    waiting.scheduleCheckPendingRequests();
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    const throttled = queue({ pending: [], throttledUntil: Date.now() + 1_000 });
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
  });

  it("looks for timed-out requests once a second, not every 100 ms, and stops with the connection", () => {
    vi.useFakeTimers();
    try {
      const timedOut: string[] = [];
      const request = (name: string, sentAgoMs: number) => ({ sentAt: Date.now() - sentAgoMs, requestTimeout: 30_000, timeoutRequest: () => timedOut.push(name) });
      let connected = true;
      const q = Object.assign(Object.create(RequestQueue.prototype), {
        enforceRequestTimeout: true,
        requestTimeout: 30_000,
        throttleCheckTimeoutId: null,
        inflight: new Map([
          [1, request("late", 30_500)],
          [2, request("young", 0)],
        ]),
        isConnected: () => connected,
      });
      q.scheduleRequestTimeoutCheck();
      vi.advanceTimersByTime(REQUEST_TIMEOUT_CHECK_MS - 1);
      expect(timedOut).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(timedOut).toEqual(["late"]);
      expect(REQUEST_TIMEOUT_CHECK_MS).toBe(1_000);
      connected = false;
      vi.advanceTimersByTime(REQUEST_TIMEOUT_CHECK_MS);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("patches once, however often it is called", () => {
    const before = RequestQueue.prototype.scheduleCheckPendingRequests;
    patchKafkaRequestQueue(RequestQueue);
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).toBe(before);
  });
});
