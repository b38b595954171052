import { describe, expect, it } from "vitest";
import { decideAfterFailure, type FailedAttempt } from "./retry-policy.js";

const base: FailedAttempt = {
  failedAttempts: 1,
  error: { name: "Error", message: "boom", retriable: true },
  maxAttempts: 3,
  backoff: { initialMs: 100, multiplier: 2, maxMs: 1_000, jitter: "none" },
  deadLetterEnabled: true,
  healthy: true,
};

describe("decideAfterFailure", () => {
  it.each([
    ["an ordinary failure before maxAttempts is retried after the backoff", { failedAttempts: 2 }, { action: "retry", delayMs: 200 }],
    ["the last attempt of a healthy function dead-letters", { failedAttempts: 3 }, { action: "dead-letter" }],
    ["the last attempt without evidence of health waits instead (outage)", { failedAttempts: 3, healthy: false }, { action: "retry", delayMs: 400 }],
    ["attempts past maxAttempts keep the capped backoff", { failedAttempts: 9, healthy: false }, { action: "retry", delayMs: 1_000 }],
    [
      "a NonRetriableError dead-letters at once, even during an outage",
      { healthy: false, error: { name: "NonRetriableError", message: "bad", code: "EDDY_NON_RETRIABLE", retriable: false } },
      { action: "dead-letter" },
    ],
    [
      "RetryAfterError sets the delay",
      { error: { name: "RetryAfterError", message: "429", code: "EDDY_RETRY_AFTER", retriable: true, retryAfterMs: 7_000 } },
      { action: "retry", delayMs: 7_000 },
    ],
    [
      "without a dead-letter topic even a NonRetriableError is retried",
      { deadLetterEnabled: false, failedAttempts: 3, error: { name: "NonRetriableError", message: "bad", retriable: false } },
      { action: "retry", delayMs: 400 },
    ],
  ] as const)("%s", (_name, overrides, expected) => {
    expect(decideAfterFailure({ ...base, ...overrides } as FailedAttempt)).toEqual(expected);
  });

  it("jitters the delay fully between zero and the exponential cap", () => {
    const jittered = { ...base, failedAttempts: 2, backoff: { ...base.backoff, jitter: "full" as const } };
    expect(decideAfterFailure(jittered, () => 0)).toEqual({ action: "retry", delayMs: 0 });
    expect(decideAfterFailure(jittered, () => 0.5)).toEqual({ action: "retry", delayMs: 100 });
  });
});
