import { describe, expect, it } from "vitest";
import { OffsetTracker } from "./offset-tracker.js";

function tracker(...offsets: number[]): OffsetTracker {
  const t = new OffsetTracker();
  for (const offset of offsets) t.add(BigInt(offset));
  return t;
}

describe("OffsetTracker", () => {
  it("knows nothing to commit before the first record", () => {
    expect(new OffsetTracker().committable()).toBeUndefined();
  });

  it("commits nothing past the oldest unfinished record", () => {
    const t = tracker(10, 11, 12, 13);
    expect(t.committable()).toBe(10n);
    t.markDone(12n);
    t.markDone(13n);
    expect(t.committable()).toBe(10n);
    t.markDone(10n);
    expect(t.committable()).toBe(11n);
    expect(t.pending).toBe(1);
  });

  it("moves past the last record once everything finished, whatever order they finished in", () => {
    const t = tracker(0, 1, 2, 3, 4);
    for (const offset of [4, 2, 0, 3, 1]) t.markDone(BigInt(offset));
    expect(t.committable()).toBe(5n);
    expect(t.pending).toBe(0);
  });

  it("skips offsets that were never handed over (compaction gaps)", () => {
    const t = tracker(5, 9, 20);
    t.markDone(5n);
    expect(t.committable()).toBe(9n);
    t.markDone(20n);
    expect(t.committable()).toBe(9n);
    t.markDone(9n);
    expect(t.committable()).toBe(21n);
  });

  it("moves past a trailing transaction marker only when the records before it finished", () => {
    const t = tracker(7);
    t.extendTo(8n);
    expect(t.committable()).toBe(7n);
    t.markDone(7n);
    expect(t.committable()).toBe(9n);
  });

  it("can start from a batch of markers alone", () => {
    const t = new OffsetTracker();
    t.extendTo(3n);
    expect(t.committable()).toBe(4n);
    expect(t.add(2n)).toBe(false);
    expect(t.add(4n)).toBe(true);
  });

  it("refuses records it already received, so a refetch after a rebalance is not run twice", () => {
    const t = tracker(0, 1, 2);
    expect(t.add(1n)).toBe(false);
    expect(t.add(2n)).toBe(false);
    expect(t.add(3n)).toBe(true);
    expect(t.nextExpected).toBe(4n);
    expect(t.pending).toBe(4);
  });

  it("ignores unknown and repeated completions", () => {
    const t = tracker(1, 2);
    t.markDone(99n);
    t.markDone(1n);
    t.markDone(1n);
    expect(t.pending).toBe(1);
    expect(t.committable()).toBe(2n);
  });

  it("stays exact over many records finishing out of order", () => {
    const t = new OffsetTracker();
    const count = 5_000;
    for (let i = 0; i < count; i += 1) t.add(BigInt(i));
    const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => ((a * 7_919) % count) - ((b * 7_919) % count));
    let lowestUnfinished = 0;
    const done = new Set<number>();
    for (const offset of order) {
      t.markDone(BigInt(offset));
      done.add(offset);
      while (done.has(lowestUnfinished)) lowestUnfinished += 1;
      expect(t.committable()).toBe(BigInt(lowestUnfinished));
    }
    expect(t.pending).toBe(0);
  });
});
