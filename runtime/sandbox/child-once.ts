import { fork, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";

/** How a one-shot child process ended: its one reply, its time running out, or its death. */
export type ChildOutcome<Reply> = { kind: "reply"; reply: Reply } | { kind: "timeout" } | { kind: "exit"; detail: string };

/** Per entry kept warm (see keepWarm), the one child forked ahead of need, idle until it is taken. */
const spares = new Map<string, ChildProcess>();
const warmEntries = new Set<string>();
/**
 * A used child is replaced after a pause: at once, the new one's start would compete for the CPU with
 * the worker process the same deploy is starting.
 */
const REFILL_DELAY_MS = 1_000;

function forkChild(entry: string): ChildProcess {
  // Node's snapshot off, for isolated-vm; "advanced" serialization carries Uint8Array values as they are.
  return fork(entry, [], { execArgv: ["--no-node-snapshot"], serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
}

/** A child still running with its IPC channel open: one that may be handed work. */
export const isAlive = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.connected && child.exitCode === null && child.signalCode === null;

/** An idle spare keeps nobody's process alive; a taken one does until it ends. */
export function holdProcess(child: ChildProcess, hold: boolean): void {
  const handles = [child, child.channel, child.stderr as Socket | null] as ({ ref(): void; unref(): void } | null | undefined)[];
  for (const handle of handles) hold ? handle?.ref() : handle?.unref();
}

function refill(entry: string): void {
  if (!warmEntries.has(entry) || isAlive(spares.get(entry))) return;
  const child = forkChild(entry);
  holdProcess(child, false);
  child.once("exit", () => {
    if (spares.get(entry) === child) spares.delete(entry);
  });
  spares.set(entry, child);
}

function take(entry: string): ChildProcess | undefined {
  const child = spares.get(entry);
  spares.delete(entry);
  if (!isAlive(child)) return undefined;
  holdProcess(child, true);
  return child;
}

/**
 * Keeps one child of `entry` forked and idle, so that the next `runOnceInChild` skips Node's start and
 * the module loading (~0.3–0.4 s on the way to a deploy's answer). Each child still serves one request
 * and is killed after it: a spare has run no user code yet.
 */
export function keepWarm(entry: string): void {
  warmEntries.add(entry);
  refill(entry);
}

/** Stops keeping children warm and kills the idle ones (the control plane is closing). */
export function stopWarm(): void {
  warmEntries.clear();
  for (const child of spares.values()) child.kill("SIGKILL");
  spares.clear();
}

/**
 * Forks `entry` (or takes its warm spare), sends it one request, and waits for one reply, at most
 * `limitMs`. The child is killed however it ends: user code that ran there may have left anything
 * behind. A death is reported with the last line it wrote to stderr.
 */
export function runOnceInChild<Reply>(entry: string, request: unknown, limitMs: number): Promise<ChildOutcome<Reply>> {
  return new Promise((resolve) => {
    const child = take(entry) ?? forkChild(entry);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    let settled = false;
    const finish = (outcome: ChildOutcome<Reply>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      if (warmEntries.has(entry)) setTimeout(() => refill(entry), REFILL_DELAY_MS).unref();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "timeout" }), limitMs);
    child.once("message", (reply: Reply) => finish({ kind: "reply", reply }));
    child.once("exit", (code, signal) =>
      finish({ kind: "exit", detail: `${signal ?? `exit ${code}`}: ${stderr.trim().split("\n").pop() ?? ""}` }),
    );
    child.send(request as object);
  });
}
