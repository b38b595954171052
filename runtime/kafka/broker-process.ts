import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { open, rename, stat } from "node:fs/promises";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `pid` names a process that has not exited. A zombie (exited, not yet reaped) counts as exited. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state letter follows the command name, which is in parentheses and may itself hold spaces.
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    // No /proc (macOS): kill(0) is all there is. With /proc, an unreadable entry means it just went away.
    return !existsSync("/proc/self");
  }
}

/**
 * Whether `pid` is a live Kafka broker started with `propertiesFile`. A pid in broker.json may have been
 * reused by an unrelated process since; on Linux its command line tells them apart, so stop never
 * signals a stranger. Elsewhere liveness is all there is to go on.
 */
export function isBrokerProcess(pid: number, propertiesFile: string): boolean {
  if (!isProcessAlive(pid)) return false;
  if (!existsSync("/proc/self")) return true;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return args.includes("kafka.Kafka") && args.includes(propertiesFile);
  } catch {
    return false;
  }
}

/** Polls until `pid` has exited; false if it is still alive after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** SIGTERM (Kafka shuts down cleanly and flushes), then SIGKILL once `timeoutMs` has passed. */
export async function terminate(pid: number, timeoutMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name);
    } catch {
      // Already gone.
    }
  };
  signal("SIGTERM");
  if (await waitForExit(pid, timeoutMs)) return;
  signal("SIGKILL");
  await waitForExit(pid, 10_000);
}

export interface SpawnedBroker {
  pid: number;
  /** Null while it runs; why it stopped once it has. */
  exitReason: () => string | null;
}

/**
 * Starts `java <args>` in its own process group with stdout and stderr appended to `logFile`, and lets
 * go of it: the broker outlives this process (`eddy kafka start` returns while it keeps running).
 */
export function spawnDetached(args: string[], logFile: string): SpawnedBroker {
  const fd = openSync(logFile, "a");
  let exit: string | null = null;
  try {
    const child = spawn("java", args, { detached: true, stdio: ["ignore", fd, fd] });
    child.once("error", (error) => (exit = `java could not be run (${error.message})`));
    child.once("exit", (code, signal) => (exit = signal ? `it was killed by ${signal}` : `it exited with code ${code}`));
    child.unref();
    if (child.pid === undefined) throw new Error("java could not be spawned");
    return { pid: child.pid, exitReason: () => exit };
  } finally {
    closeSync(fd);
  }
}

/** The byte length of `file`, 0 if it does not exist: where the lines of the next start begin. */
export async function fileSize(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

/** Keeps broker.log from growing forever across restarts: past `maxBytes` it moves to broker.log.1. */
export async function rotateLog(file: string, maxBytes = 10 * 1024 * 1024): Promise<void> {
  if ((await fileSize(file)) > maxBytes) await rename(file, `${file}.1`);
}

/** A Java stack frame ("\tat ...", "\t... 18 more"): dropped from tails, the "Caused by" lines say what failed. */
const STACK_FRAME = /^\s+(at |\.\.\. \d+ more)/;

/**
 * The last `lines` lines written to `file` after byte `fromOffset`, without Java stack frames
 * (reads at most the last 64 KiB).
 */
export async function readLogTail(file: string, fromOffset: number, lines = 20): Promise<string> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch {
    return "";
  }
  try {
    const size = (await handle.stat()).size;
    const start = Math.max(fromOffset, size - 64 * 1024);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await handle.read(buffer, 0, buffer.length, start);
    return buffer
      .toString("utf8")
      .split("\n")
      .filter((line) => line.trim() !== "" && !STACK_FRAME.test(line))
      .slice(-lines)
      .join("\n");
  } finally {
    await handle.close();
  }
}
