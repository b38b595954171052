import type { ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StandbyWorker } from "./standby-worker.js";

/** The parts of a ChildProcess the standby looks at: alive while connected and not exited. */
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

describe("StandbyWorker", () => {
  let forked: FakeChild[];
  let standby: StandbyWorker;

  beforeEach(() => {
    vi.useFakeTimers();
    forked = [];
    standby = new StandbyWorker(() => {
      const child = new FakeChild();
      forked.push(child);
      return child as unknown as ChildProcess;
    });
  });
  afterEach(() => {
    standby.stop();
    vi.useRealTimers();
  });

  it("keeps one process: fill forks it once, and an idle one does not hold the control plane open", () => {
    standby.fill();
    standby.fill();
    expect(forked).toHaveLength(1);
    expect(forked[0]!.refs).toBeLessThan(0);
  });

  it("hands the process over, holds it from then on, and forks the next one a second later", () => {
    standby.fill();
    const taken = standby.take() as unknown as FakeChild;
    expect(taken).toBe(forked[0]);
    expect(taken.refs).toBe(0);
    expect(standby.take(), "none until the next is forked").toBeUndefined();
    vi.advanceTimersByTime(999);
    expect(forked).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(forked).toHaveLength(2);
    expect(standby.take()).toBe(forked[1]);
  });

  it("a deploy's fill forks the next one at once instead of waiting", () => {
    standby.fill();
    standby.take();
    standby.fill();
    expect(forked).toHaveLength(2);
    vi.advanceTimersByTime(5_000);
    expect(forked).toHaveLength(2);
  });

  it("never hands over a dead process, and forks again only after 10 s when one exits by itself", () => {
    standby.fill();
    forked[0]!.exit(1);
    vi.advanceTimersByTime(9_999);
    expect(forked).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(forked).toHaveLength(2);
    forked[1]!.connected = false;
    expect(standby.take()).toBeUndefined();
  });

  it("stop kills the standby and forks no other", () => {
    standby.fill();
    standby.stop();
    expect(forked[0]!.killed).toEqual(["SIGKILL"]);
    standby.fill();
    vi.advanceTimersByTime(20_000);
    expect(forked).toHaveLength(1);
  });
});
