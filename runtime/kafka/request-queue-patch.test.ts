import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { patchKafkaRequestQueue } from "./request-queue-patch.js";

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

  it("patches once, however often it is called", () => {
    const before = RequestQueue.prototype.scheduleCheckPendingRequests;
    patchKafkaRequestQueue(RequestQueue);
    expect(RequestQueue.prototype.scheduleCheckPendingRequests).toBe(before);
  });
});
