import type { HostFunctions } from "../wire.js";
import { describeValue, formatError } from "./format.js";
import { platformError } from "./platform-error.js";

const MAX_DELAY_MS = 2 ** 31 - 1;

interface Timer {
  callback: (...args: unknown[]) => unknown;
  args: unknown[];
  /** Set for intervals. */
  repeatMs: number | undefined;
}

export interface Timers {
  setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): number;
  setInterval(callback: unknown, delay?: unknown, ...args: unknown[]): number;
  clearTimeout(id: unknown): void;
  fire(id: number): void;
  /** Drops every timer: called when no invocation is in flight, so timers never outlive invocations. */
  clearAll(): void;
}

/**
 * Timers whose clock is the host's: the isolate asks the host to call `fire(id)` later. A timer
 * created while no invocation is in flight (e.g. at load) is never scheduled; at most `maxPending`
 * are pending at once (each costs the host a timer).
 */
export function createTimers(host: Pick<HostFunctions, "setTimer" | "clearTimer" | "log">, active: () => boolean, maxPending: number): Timers {
  let nextId = 0;
  const timers = new Map<number, Timer>();

  function schedule(kind: string, callback: unknown, delay: unknown, args: unknown[], repeat: boolean): number {
    if (typeof callback !== "function") {
      throw new TypeError(`${kind}: callback: expected a function, got ${describeValue(callback)}`);
    }
    const id = ++nextId;
    let ms = Number(delay);
    ms = Number.isFinite(ms) && ms > 0 ? Math.min(Math.trunc(ms), MAX_DELAY_MS) : 0;
    if (repeat) ms = Math.max(ms, 1);
    if (!active()) return id;
    if (timers.size >= maxPending) {
      throw platformError("EDDY_SANDBOX_LIMIT", `${kind}: ${timers.size} timers are already pending; the limit is ${maxPending} (maxPendingTimers)`, {
        retriable: true,
        type: RangeError,
      });
    }
    timers.set(id, { callback: callback as Timer["callback"], args, repeatMs: repeat ? ms : undefined });
    host.setTimer(id, ms);
    return id;
  }

  return {
    setTimeout: (callback, delay, ...args) => schedule("setTimeout", callback, delay, args, false),
    setInterval: (callback, delay, ...args) => schedule("setInterval", callback, delay, args, true),
    clearTimeout(id) {
      const key = Number(id);
      if (timers.delete(key)) host.clearTimer(key);
    },
    fire(id) {
      const timer = timers.get(id);
      if (timer === undefined) return;
      if (timer.repeatMs === undefined) timers.delete(id);
      else host.setTimer(id, timer.repeatMs);
      try {
        timer.callback(...timer.args);
      } catch (error) {
        host.log("error", `Uncaught ${formatError(error)} (in a timer callback)`);
      }
    },
    clearAll() {
      timers.clear();
    },
  };
}
