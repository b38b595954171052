import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";

const policy = { initialMs: 100, multiplier: 2, maxMs: 1_000, jitter: "none" as const };

describe("backoffDelayMs", () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1_000],
    [12, 1_000],
  ])("without jitter, after %i failed attempts waits %i ms", (failed, expected) => {
    expect(backoffDelayMs(policy, failed)).toBe(expected);
  });

  it("with full jitter stays between zero and the capped exponential delay", () => {
    const jittered = { ...policy, jitter: "full" as const };
    expect(backoffDelayMs(jittered, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(jittered, 3, () => 0.5)).toBe(200);
    expect(backoffDelayMs(jittered, 3, () => 0.999)).toBe(399);
  });
});
