import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SpareProcess } from "./spare-process.js";

/** The parts of a ChildProcess the spare looks at: alive while connected and not exited. */
class FakeChild extends EventEmitter {
  connected = true;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed: string[] = [];
  refs = 0;
  ref(): void {
    this.refs += 1;
  }
  unref(): void {
    this.refs -= 1;
  }
  kill(signal: NodeJS.Signals): boolean {
    this.killed.push(signal);
    this.exit(null, signal);
    return true;
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.connected = false;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit("exit", code, signal);
  }
}

describe("SpareProcess", () => {
  let forked: FakeChild[];
  const spareOf = (options?: { refillAfterExitMs?: number }) =>
    new SpareProcess(() => {
      const child = new FakeChild();
      forked.push(child);
      return child as unknown as ChildProcess;
    }, options);
  let spare: SpareProcess;

  beforeEach(() => {
    vi.useFakeTimers();
    forked = [];
    spare = spareOf({ refillAfterExitMs: 10_000 });
  });
  afterEach(() => {
    spare.stop();
    vi.useRealTimers();
  });

  it("keeps one process: fill forks it once, and an idle one does not hold its parent open", () => {
    spare.fill();
    spare.fill();
    expect(forked).toHaveLength(1);
    expect(forked[0]!.refs).toBeLessThan(0);
  });

  it("hands the process over, holds it from then on, and forks the next when its owner says", () => {
    spare.fill();
    const taken = spare.take() as unknown as FakeChild;
    expect(taken).toBe(forked[0]);
    expect(taken.refs).toBe(0);
    expect(spare.take(), "none until the next is forked").toBeUndefined();
    spare.refillIn(1_000);
    vi.advanceTimersByTime(999);
    expect(forked).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(forked).toHaveLength(2);
    expect(spare.take()).toBe(forked[1]);
  });

  it("fill forks the next one at once instead of waiting for a refill already due", () => {
    spare.fill();
    spare.take();
    spare.refillIn(1_000);
    spare.fill();
    expect(forked).toHaveLength(2);
    vi.advanceTimersByTime(5_000);
    expect(forked).toHaveLength(2);
  });

  it("never hands over a dead process, and forks again after refillAfterExitMs when one exits by itself", () => {
    spare.fill();
    forked[0]!.exit(1);
    vi.advanceTimersByTime(9_999);
    expect(forked).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(forked).toHaveLength(2);
    forked[1]!.connected = false;
    expect(spare.take()).toBeUndefined();
  });

  it("without refillAfterExitMs, a spare that exits by itself is replaced only when asked", () => {
    const lazy = spareOf();
    lazy.fill();
    forked[0]!.exit(1);
    vi.advanceTimersByTime(60_000);
    expect(forked).toHaveLength(1);
    lazy.fill();
    expect(forked).toHaveLength(2);
    lazy.stop();
  });

  it("stop kills the idle spare and forks no other", () => {
    spare.fill();
    spare.refillIn(1_000);
    spare.stop();
    expect(forked[0]!.killed).toEqual(["SIGKILL"]);
    spare.fill();
    spare.refillIn(1);
    vi.advanceTimersByTime(20_000);
    expect(forked).toHaveLength(1);
  });
});
