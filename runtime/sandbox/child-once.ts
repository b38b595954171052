import { fork } from "node:child_process";

/** How a one-shot child process ended: its one reply, its time running out, or its death. */
export type ChildOutcome<Reply> = { kind: "reply"; reply: Reply } | { kind: "timeout" } | { kind: "exit"; detail: string };

/**
 * Forks `entry` (with Node's snapshot off, for isolated-vm), sends it one request, and waits for one
 * reply, at most `limitMs`. The child is killed however it ends: user code that ran there may have
 * left anything behind. A death is reported with the last line it wrote to stderr.
 */
export function runOnceInChild<Reply>(entry: string, request: unknown, limitMs: number): Promise<ChildOutcome<Reply>> {
  return new Promise((resolve) => {
    // "advanced" serialization carries Uint8Array values as they are.
    const child = fork(entry, [], { execArgv: ["--no-node-snapshot"], serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    let settled = false;
    const finish = (outcome: ChildOutcome<Reply>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
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
