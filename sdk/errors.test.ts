import { describe, expect, it } from "vitest";
import { BatchItemFailures, ERROR_CODE_PROPERTY, NonRetriableError, RetryAfterError, SdkErrorCode } from "./errors.js";
import { createEvent } from "./event.js";

describe("SDK errors", () => {
  it("NonRetriableError carries its name and the non-retriable code", () => {
    const error = new NonRetriableError("order without email", { cause: "x" });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("NonRetriableError");
    expect(error.message).toBe("order without email");
    expect(error.cause).toBe("x");
    expect((error as unknown as Record<string, unknown>)[ERROR_CODE_PROPERTY]).toBe("EDDY_NON_RETRIABLE");
  });

  it("RetryAfterError carries the delay and its code", () => {
    const error = new RetryAfterError("rate limited", 1500);
    expect(error.name).toBe("RetryAfterError");
    expect(error.retryAfterMs).toBe(1500);
    expect(error.eddyErrorCode).toBe(SdkErrorCode.RetryAfter);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ["10" as unknown as number]])(
    "RetryAfterError rejects the delay %s naming the field",
    (ms) => {
      expect(() => new RetryAfterError("x", ms)).toThrow(/retryAfterMs: expected a finite number >= 0/);
    },
  );

  it("BatchItemFailures carries the failed events and a default message", () => {
    const event = createEvent({ topic: "t", partition: 0, offset: "1", timestamp: 0, key: null, value: null, headers: {} });
    const error = new BatchItemFailures([event]);
    expect(error.name).toBe("BatchItemFailures");
    expect(error.failed).toEqual([event]);
    expect(error.message).toBe("1 record(s) of the batch failed");
    expect(error.eddyErrorCode).toBe("EDDY_BATCH_ITEM_FAILURES");
  });

  it("subclasses keep the marker, so the host recognises them by code", () => {
    class PaymentDeclined extends NonRetriableError {}
    expect(new PaymentDeclined("no").eddyErrorCode).toBe("EDDY_NON_RETRIABLE");
  });
});
