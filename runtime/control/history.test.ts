import { describe, expect, it } from "vitest";
import { FunctionHistory, type Reading } from "./history.js";

const reading = (atMs: number, counts: Partial<Reading> = {}): Reading => ({
  atMs,
  lag: 0,
  arrivalPerSec: 0,
  processed: 0,
  failed: 0,
  deadLettered: 0,
  replicasDesired: 1,
  replicasReady: 1,
  p99Ms: 0,
  ...counts,
});

describe("FunctionHistory", () => {
  it("turns the growth of counters between readings into rates per second", () => {
    const history = new FunctionHistory();
    history.record("f", reading(0, { processed: 100 }));
    history.record("f", reading(5_000, { processed: 600, failed: 10, deadLettered: 5, lag: 42, arrivalPerSec: 90 }));
    const [first, second] = history.of("f").samples;
    expect(first).toMatchObject({ at: new Date(0).toISOString(), processedPerSec: 0 });
    expect(second).toMatchObject({ processedPerSec: 100, failedPerSec: 2, deadLetteredPerSec: 1, lag: 42, arrivalPerSec: 90 });
  });

  it("gives no rate across a counter that went back (a function deleted and deployed again)", () => {
    const history = new FunctionHistory();
    history.record("f", reading(0, { processed: 500 }));
    history.record("f", reading(5_000, { processed: 20 }));
    expect(history.of("f").samples[1]!.processedPerSec).toBe(0);
  });

  it("keeps a bounded window, with the decisions that fall inside it, and forgets a deleted function", () => {
    const history = new FunctionHistory(3);
    history.decision("f", { at: new Date(1_000).toISOString(), from: 0, to: 1, reason: "activation" });
    for (let i = 0; i < 5; i++) history.record("f", reading(i * 5_000));
    history.decision("f", { at: new Date(22_000).toISOString(), from: 1, to: 2, reason: "lag" });
    const { samples, decisions } = history.of("f");
    expect(samples.map((s) => s.at)).toEqual([10_000, 15_000, 20_000].map((ms) => new Date(ms).toISOString()));
    expect(decisions.map((d) => d.reason)).toEqual(["lag"]);
    history.forget("f");
    expect(history.of("f")).toEqual({ samples: [], decisions: [] });
  });
});
