import { fork, type ChildProcess } from "node:child_process";
import { SpareProcess } from "./spare-process.js";

/** How a one-shot child process ended: its one reply, its time running out, or its death. */
export type ChildOutcome<Reply> = { kind: "reply"; reply: Reply } | { kind: "timeout" } | { kind: "exit"; detail: string };

/** Per entry kept warm (see keepWarm), its spare child. */
const spares = new Map<string, SpareProcess>();
/**
 * A used child is replaced after a pause: at once, the new one's start would compete for the CPU with
 * the worker process the same deploy is starting.
 */
const REFILL_DELAY_MS = 1_000;

function forkChild(entry: string): ChildProcess {
  // Node's snapshot off, for isolated-vm; "advanced" serialization carries Uint8Array values as they are.
  return fork(entry, [], { execArgv: ["--no-node-snapshot"], serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
}

/**
 * Keeps one child of `entry` forked and idle, so that the next `runOnceInChild` skips Node's start and
 * the module loading (~0.3–0.4 s on the way to a deploy's answer). Each child still serves one request
 * and is killed after it: a spare has run no user code yet.
 */
export function keepWarm(entry: string): void {
  let spare = spares.get(entry);
  if (spare === undefined) {
    spare = new SpareProcess(() => forkChild(entry));
    spares.set(entry, spare);
  }
  spare.fill();
}

/** Stops keeping children warm and kills the idle ones (the control plane is closing). */
export function stopWarm(): void {
  for (const spare of spares.values()) spare.stop();
  spares.clear();
}

/**
 * Forks `entry` (or takes its warm spare), sends it one request, and waits for one reply, at most
 * `limitMs`. The child is killed however it ends: user code that ran there may have left anything
 * behind. A death is reported with the last line it wrote to stderr.
 */
export function runOnceInChild<Reply>(entry: string, request: unknown, limitMs: number): Promise<ChildOutcome<Reply>> {
  return new Promise((resolve) => {
    const spare = spares.get(entry);
    const child = spare?.take() ?? forkChild(entry);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    let settled = false;
    const finish = (outcome: ChildOutcome<Reply>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      spare?.refillIn(REFILL_DELAY_MS);
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
