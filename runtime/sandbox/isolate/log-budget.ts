import type { LogLevel } from "../types.js";
import type { HostFunctions } from "../wire.js";
import { formatLogArgs } from "./format.js";

/**
 * The function's log lines (console.*, ctx.log.*), at most `perInvocation` per invocation. console
 * is global, so lines cannot be told apart by invocation: a window opens when an invocation starts
 * while none is in flight and grows by `perInvocation` with each invocation that joins it. Lines
 * over the window's budget are dropped before they are even formatted, and counted.
 */
export class LogBudget {
  readonly #host: Pick<HostFunctions, "log">;
  readonly #perInvocation: number;
  #lines = 0;
  #budget: number;
  #dropped = 0;

  constructor(host: Pick<HostFunctions, "log">, perInvocation: number) {
    this.#host = host;
    this.#perInvocation = perInvocation;
    // Before any invocation (the bundle's top level) one invocation's worth applies.
    this.#budget = perInvocation;
  }

  /** An invocation starts; `first` when no other is in flight. */
  open(first: boolean): void {
    if (first) {
      this.#lines = 0;
      this.#budget = this.#perInvocation;
    } else this.#budget += this.#perInvocation;
  }

  /** `invocation`: whose ctx.log wrote it (its trace ids go on the line); absent for console.*. */
  write(level: LogLevel, args: readonly unknown[], invocation?: number): void {
    if (this.#lines >= this.#budget) {
      this.#dropped += 1;
      return;
    }
    this.#lines += 1;
    if (invocation === undefined) this.#host.log(level, formatLogArgs(args));
    else this.#host.log(level, formatLogArgs(args), invocation);
  }

  /** Lines dropped since the last call. */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }
}
