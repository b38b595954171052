import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";

/** A child still running with its IPC channel open: one that may be handed work. */
export const isAlive = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.connected && child.exitCode === null && child.signalCode === null;

/** An idle spare keeps nobody's process alive; a taken one does until it ends. */
function holdProcess(child: ChildProcess, hold: boolean): void {
  const handles = [child, child.channel, child.stderr as Socket | null] as ({ ref(): void; unref(): void } | null | undefined)[];
  for (const handle of handles) hold ? handle?.ref() : handle?.unref();
}

/**
 * One child process forked ahead of need and kept idle, so that whoever needs one next skips Node's
 * start and the module loading (0.3–1 s on two cores). Its owner takes it and says when to fork the
 * next (`refillIn`): usually a moment later, so that the new one's boot does not compete for the CPU
 * with the work the taken one was for. Used for the control plane's inspect child (child-once.ts) and
 * its standby worker (worker/supervisor.ts).
 */
export class SpareProcess {
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  /** `refillAfterExitMs`: when the idle spare exits by itself, fork the next this much later (default: not until refillIn or fill). */
  constructor(
    private readonly forkSpare: () => ChildProcess,
    private readonly options: { refillAfterExitMs?: number } = {},
  ) {}

  /** Forks the spare now unless one is there (booting or booted). */
  fill(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || isAlive(this.#child)) return;
    const child = this.forkSpare();
    holdProcess(child, false);
    child.once("exit", () => {
      if (this.#child !== child) return;
      this.#child = undefined;
      if (this.options.refillAfterExitMs !== undefined) this.refillIn(this.options.refillAfterExitMs);
    });
    this.#child = child;
  }

  /** The spare (it may still be booting: it reads its first message once ready), held from now on; undefined when there is none. */
  take(): ChildProcess | undefined {
    const child = this.#child;
    this.#child = undefined;
    if (!isAlive(child)) return undefined;
    holdProcess(child, true);
    return child;
  }

  /** Forks the next spare in `ms` (unless one is already due sooner, or fill() comes first). */
  refillIn(ms: number): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.fill(), ms);
    this.#timer.unref();
  }

  /** Kills the idle spare and forks no other. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    this.#child = undefined;
    if (isAlive(child)) child.kill("SIGKILL");
  }
}
