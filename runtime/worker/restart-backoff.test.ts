import { describe, expect, it } from "vitest";
import { crashStep, restartDelayMs, STEADY_AFTER_MS } from "./restart-backoff.js";

describe("restart backoff", () => {
  it("doubles from 0.5 s up to 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map(restartDelayMs)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("starts again from 0.5 s after a worker stayed up for a minute, not before, nor when it never got ready", () => {
    expect(crashStep(6, STEADY_AFTER_MS)).toBe(0);
    expect(crashStep(6, STEADY_AFTER_MS - 1)).toBe(6);
    expect(crashStep(6, undefined)).toBe(6);
  });
});
