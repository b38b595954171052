import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { sleep } from "./progress.js";

const BASELINE_MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), "../baseline/kafkajs-consumer.js");

/** Resident memory of a process in MB (VmRSS), or null when it is gone. Linux only. */
export function rssMb(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time a process has used so far (user + system) in seconds, or null when it is gone. Linux only. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields resume after the command name's last ")"; utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The CPU seconds the processes have used so far, together (a process that is gone counts 0). */
export function totalCpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

/** Percent of one core each process used over `windowMs` (NaN for one that ended meanwhile). */
export async function cpuPercent(pids: number[], windowMs: number): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  const from = performance.now();
  await sleep(windowMs);
  const seconds = (performance.now() - from) / 1000;
  return pids.map((pid, k) => {
    const [start, end] = [before[k], cpuSeconds(pid)];
    return start === null || start === undefined || end === null ? Number.NaN : (100 * (end - start)) / seconds;
  });
}

/** The ids of live processes whose command line contains `marker` (whatever their parent). */
export function pidsByCommand(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** The ids of the live child processes of `parent` whose command line contains `marker`. */
export function childPids(parent: number, marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name may hold spaces and parentheses: fields resume after the last ")".
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) !== parent) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(marker)) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** What the baseline child does; see baseline/kafkajs-consumer.ts. */
export type BaselineSpec =
  | { mode: "noop-batch"; brokers: string; groupId: string; topic: string }
  | { mode: "relay"; brokers: string; groupId: string; topic: string; output: string }
  | { mode: "slow-message"; brokers: string; groupId: string; topic: string; url: string }
  | { mode: "idle"; brokers: string; groupId: string; topics: string[] };

/** A progress report of the baseline: `count` records done at `at` (performance.now() of this process). */
export interface BaselineProgress {
  count: number;
  at: number;
}

/**
 * A bare kafkajs consumer in its own Node process, as a user would run one; start() resolves once
 * its group (every group, in the idle mode) is joined. It reports its first join and each finished
 * batch (or record) with a timestamp on stdout.
 */
export class BaselineProcess {
  readonly progress: BaselineProgress[] = [];
  /** When its consumer group was joined (performance.now() of this process), as the child reported it. */
  joinedAt: number | null = null;

  private constructor(readonly child: ChildProcess, private readonly output: { stderr: string }) {
    let pending = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const match = /^progress (\d+) ([\d.]+)$/.exec(line);
        if (match) this.progress.push({ count: Number(match[1]), at: Number(match[2]) - performance.timeOrigin });
        const joined = /^joined ([\d.]+)$/.exec(line);
        if (joined) this.joinedAt = Number(joined[1]) - performance.timeOrigin;
      }
    });
  }

  static async start(spec: BaselineSpec, timeoutMs = 60_000): Promise<BaselineProcess> {
    // The IPC channel is only there so that the child notices when the bench goes away (see the child).
    const child = spawn(process.execPath, [BASELINE_MAIN, JSON.stringify(spec)], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
    const output = { stderr: "" };
    child.stderr!.on("data", (chunk: Buffer) => (output.stderr = (output.stderr + chunk.toString()).slice(-20_000)));
    let stdout = "";
    // Built before the join so that progress reported right after it is not missed.
    const baseline = new BaselineProcess(child, output);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`baseline (${spec.mode}) did not join in ${timeoutMs} ms: ${output.stderr.slice(-2_000)}`)), timeoutMs);
      child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("ready\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`baseline (${spec.mode}) exited with ${code}: ${output.stderr.slice(-2_000)}`));
      });
    });
    return baseline;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    // kafkajs' disconnect waits out a fetch (up to 5 s); the baseline's group is never used again.
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 1_000);
    await exited;
    clearTimeout(timer);
  }
}
