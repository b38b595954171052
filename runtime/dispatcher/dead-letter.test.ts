import { describe, expect, it } from "vitest";
import { deadLetterMessage } from "./dead-letter.js";

const record = {
  topic: "orders",
  partition: 2,
  offset: "41",
  timestamp: 1_700_000_000_000,
  key: "o-1",
  value: new TextEncoder().encode('{"id":"o-1"}'),
  headers: { traceparent: "00-abc-def-01", "eddy-dlt-attempts": "9" },
};
const error = { name: "TypeError", message: "boom", stack: "TypeError: boom\n    at handle", retriable: true };
const source = { functionName: "order-confirmation", functionVersion: 3, consumerGroup: "eddy.order-confirmation" };

describe("deadLetterMessage", () => {
  it("keeps the original key, value and headers and adds every eddy-dlt header", () => {
    const message = deadLetterMessage(record, error, 5, source, new Date("2026-01-02T03:04:05.000Z"));
    expect(message.key).toBe("o-1");
    expect(message.value?.toString()).toBe('{"id":"o-1"}');
    expect(message.headers).toEqual({
      traceparent: "00-abc-def-01",
      "eddy-dlt-original-topic": "orders",
      "eddy-dlt-original-partition": "2",
      "eddy-dlt-original-offset": "41",
      "eddy-dlt-original-timestamp": "1700000000000",
      "eddy-dlt-function": "order-confirmation",
      "eddy-dlt-function-version": "3",
      "eddy-dlt-consumer-group": "eddy.order-confirmation",
      "eddy-dlt-attempts": "5",
      "eddy-dlt-error-name": "TypeError",
      "eddy-dlt-error-message": "boom",
      "eddy-dlt-error-stack": "TypeError: boom\n    at handle",
      "eddy-dlt-failed-at": "2026-01-02T03:04:05.000Z",
    });
  });

  it("cuts the stack to 4 KB", () => {
    const message = deadLetterMessage(record, { ...error, stack: "é".repeat(5_000) }, 1, source);
    const stack = String(message.headers["eddy-dlt-error-stack"]);
    expect(Buffer.byteLength(stack)).toBeLessThanOrEqual(4_096);
    expect(stack.length).toBe(2_048);
  });
});
