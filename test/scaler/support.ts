// Helpers shared by the scaler's integration tests (real broker, real `eddy start`, real worker processes).
import { expect } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { functionStatus, sleep } from "../dispatcher/support.js";

/**
 * Short windows, so that a test sees the whole cycle (up, down, to zero) in seconds rather than minutes;
 * the decider is the same as with the defaults, only faster.
 */
export const FAST_SCALING = { pollIntervalMs: 500, stableWindowMs: 5_000, minChangeIntervalMs: 2_000, scaleToZeroAfterMs: 6_000 };

/**
 * A function whose handler computes for about `cpuMs` per record (CPU-bound: a replica's rate is set by
 * its process, so a second replica helps) and emits `{ p, o, k }` to `out`.
 */
export function cpuBound(name: string, topic: string, out: string, options: { cpuMs: number; config?: string }): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  timeoutMs: 5000,
  ${options.config ?? ""}
  async handle(event, ctx) {
    const until = Date.now() + ${options.cpuMs};
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    await ctx.emit(${JSON.stringify(out)}, { p: event.partition, o: Number(event.offset), k: event.key }, { key: event.key });
  },
});`;
}

/** Deploys with configuration overrides; fails the test on anything but 201. */
export async function deployWith(eddy: EddyProcess, source: string, config: Record<string, unknown>): Promise<void> {
  const answer = await eddy.api("POST", "/v1/functions", { source, config });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
}

/** Status readings taken every `everyMs` until `until()` holds or `timeoutMs` passes. */
export async function watchStatus(eddy: EddyProcess, name: string, until: (status: any) => boolean, timeoutMs: number, everyMs = 250): Promise<any[]> {
  const seen: any[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await functionStatus(eddy, name);
    seen.push(status);
    if (until(status)) break;
    await sleep(everyMs);
  }
  return seen;
}
