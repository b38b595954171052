import { afterEach, describe, expect, it } from "vitest";
import { FetchGate } from "./host-fetch.js";

const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);

describe("FetchGate", () => {
  afterEach(() => {
    process.off("warning", onWarning);
    warnings.length = 0;
  });

  it("runs maxConcurrent fetches listening on its signal without Node's listener-leak warning, and cancels them all at once", async () => {
    process.on("warning", onWarning);
    const gate = new FetchGate(64, 64 * 64);
    const cancelled: Promise<unknown>[] = [];
    for (let i = 0; i < 64; i += 1) {
      cancelled.push(gate.run((signal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("cancelled")), { once: true })))!);
    }
    gate.abortAll();
    const settled = await Promise.allSettled(cancelled);
    expect(settled.every((result) => result.status === "rejected")).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it("holds fetches past maxConcurrent until a slot frees, and refuses past maxWaiting", async () => {
    const gate = new FetchGate(1, 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((resolve) => (release = resolve)))!;
    let secondStarted = false;
    const second = gate.run(async () => void (secondStarted = true))!;
    expect(gate.run(async () => undefined)).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(secondStarted).toBe(false);
    release();
    await Promise.all([first, second]);
    expect(secondStarted).toBe(true);
  });
});
