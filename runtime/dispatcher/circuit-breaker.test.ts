import { describe, expect, it } from "vitest";
import { CircuitBreaker, type CircuitChange } from "./circuit-breaker.js";

const config = { consecutiveFailures: 3, openMs: 1_000, maxOpenMs: 3_000, halfOpenProbes: 2 };

function breaker() {
  let now = 0;
  const changes: CircuitChange[] = [];
  const b = new CircuitBreaker(config, { now: () => now, onChange: (c) => changes.push(c) });
  const fail = (times = 1) => {
    for (let i = 0; i < times; i += 1) b.record(b.acquire()!, "failure");
  };
  return { b, changes, fail, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  it("opens after consecutiveFailures failed invocations in a row, and lets nothing through while open", () => {
    const { b, fail, changes } = breaker();
    fail(2);
    expect(b.state()).toBe("closed");
    fail();
    expect(b.state()).toBe("open");
    expect(changes).toEqual([{ state: "open", openMs: 1_000 }]);
    expect(b.acquire()).toBeUndefined();
    expect(b.canInvoke()).toBe(false);
    expect(b.reopensAt()).toBe(1_000);
  });

  it("counts only failures in a row: a success in between starts over", () => {
    const { b, fail } = breaker();
    fail(2);
    b.record(b.acquire()!, "success");
    fail(2);
    expect(b.state()).toBe("closed");
  });

  it("ignores invocations that proved nothing", () => {
    const { b, fail } = breaker();
    fail(2);
    b.record(b.acquire()!, "neutral");
    expect(b.state()).toBe("closed");
    fail();
    expect(b.state()).toBe("open");
  });

  it("goes half-open after openMs with halfOpenProbes probes, and a successful probe closes it", () => {
    const { b, fail, advance, changes } = breaker();
    fail(3);
    advance(999);
    expect(b.state()).toBe("open");
    advance(1);
    expect(b.state()).toBe("half-open");
    const first = b.acquire()!;
    const second = b.acquire()!;
    expect(first.probe && second.probe).toBe(true);
    expect(b.acquire()).toBeUndefined();
    b.record(first, "success");
    expect(b.state()).toBe("closed");
    expect(changes.map((c) => c.state)).toEqual(["open", "half-open", "closed"]);
    // The other probe's late result belongs to the half-open period and changes nothing.
    b.record(second, "failure");
    expect(b.state()).toBe("closed");
  });

  it("reopens for twice as long when a probe fails, up to maxOpenMs, and starts over from openMs once closed", () => {
    const { b, fail, advance, changes } = breaker();
    fail(3);
    for (const expected of [2_000, 3_000, 3_000]) {
      advance(5_000);
      b.record(b.acquire()!, "failure");
      expect(changes.at(-1)).toEqual({ state: "open", openMs: expected });
    }
    advance(5_000);
    b.record(b.acquire()!, "success");
    fail(3);
    expect(changes.at(-1)).toEqual({ state: "open", openMs: 1_000 });
  });

  it("gives a probe back when it proved nothing", () => {
    const { b, fail, advance } = breaker();
    fail(3);
    advance(1_000);
    const probes = [b.acquire()!, b.acquire()!];
    b.record(probes[0]!, "neutral");
    expect(b.acquire()).toBeDefined();
  });

  it("does not let results of invocations started before it opened decide the half-open state", () => {
    const { b, fail, advance } = breaker();
    const early = b.acquire()!;
    fail(3);
    advance(1_000);
    expect(b.state()).toBe("half-open");
    b.record(early, "success");
    expect(b.state()).toBe("half-open");
  });
});
