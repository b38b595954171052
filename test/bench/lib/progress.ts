import { performance } from "node:perf_hooks";

const startedAt = performance.now();

/** One progress line on stderr, stamped with the time since the bench started; stdout stays empty. */
export function progress(line: string): void {
  const seconds = (performance.now() - startedAt) / 1000;
  const stamp = `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${(seconds % 60).toFixed(1).padStart(4, "0")}`;
  process.stderr.write(`[bench ${stamp}] ${line}\n`);
}

export function elapsedSinceStartMs(): number {
  return performance.now() - startedAt;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Milliseconds on a clock shared by every process of the machine, with sub-millisecond resolution. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
