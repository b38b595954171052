import type { ChildProcess } from "node:child_process";
import { holdProcess, isAlive } from "../sandbox/child-once.js";

/** After the standby is taken, the next one is forked this much later: its boot (~0.5 s of a core) must not slow the start of the worker that took it. */
const REFILL_MS = 1_000;
/** After a standby exited on its own (nothing should make it), the next one waits longer: no fork loop. */
const REFILL_AFTER_EXIT_MS = 10_000;

/**
 * One worker process kept booted ahead of need: Node without its startup snapshot and the worker's
 * modules take ~0.5 s, which would otherwise lie between a deploy, a scale from zero or a crash restart
 * and the first record. The next replica to start takes it (it becomes that replica when it gets its
 * "start" message); another is forked a second later. It costs one idle process (~25 MB of its own,
 * the rest shared with the other workers) and no CPU while it waits.
 */
export class StandbyWorker {
  #child: ChildProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly forkStandby: () => ChildProcess) {}

  /** Forks the standby now unless one is there (booting or booted). */
  fill(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || isAlive(this.#child)) return;
    const child = this.forkStandby();
    holdProcess(child, false);
    child.once("exit", () => {
      if (this.#child !== child) return;
      this.#child = undefined;
      this.#refillIn(REFILL_AFTER_EXIT_MS);
    });
    this.#child = child;
  }

  /** The standby, to become a replica (it may still be booting: it reads its "start" message once ready); undefined when there is none. */
  take(): ChildProcess | undefined {
    const child = this.#child;
    this.#child = undefined;
    this.#refillIn(REFILL_MS);
    if (!isAlive(child)) return undefined;
    holdProcess(child, true);
    return child;
  }

  /** Kills the standby and forks no other. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const child = this.#child;
    this.#child = undefined;
    if (isAlive(child)) child!.kill("SIGKILL");
  }

  #refillIn(ms: number): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.fill(), ms);
    this.#timer.unref();
  }
}
