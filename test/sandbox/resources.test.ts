// Hostile use of time and memory: each fails only its own invocation, with a readable error, while a
// neighbour function keeps working, and the same function serves the next invocation cleanly.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  besideNeighbour,
  disposeSandboxes,
  expectFailure,
  expectServesNext,
  failure,
  firstJson,
  hostile,
  neighbour,
  record,
  sandboxFor,
  statuses,
  type TestSandbox,
} from "./sandbox-helpers.js";

let next: TestSandbox;
beforeAll(async () => {
  next = await neighbour();
});
afterEach(() => disposeSandboxes());
afterAll(() => next.sandbox.dispose());

// Module state that counts invocations: after a reset it starts again, showing a fresh isolate.
const COUNTER = "let invocations = 0;";

describe("time", () => {
  it("while (true) {} times out with EDDY_SANDBOX_TIMEOUT, and the rebuilt isolate starts clean", async () => {
    const subject = await sandboxFor(
      hostile(`invocations += 1; if (event.text() === "count") { await ctx.emit("n", { invocations, leftover: globalThis.leftover ?? null }); return; }
        globalThis.leftover = "from the looping invocation"; while (true) {}`, COUNTER),
    );
    const { result, neighbourInvocations } = await besideNeighbour(next, subject.invoke(["loop"], { timeoutMs: 300 }));
    expectFailure(result, "EDDY_SANDBOX_TIMEOUT", /ran longer than timeoutMs \(300 ms\); the isolate was rebuilt/);
    expect(neighbourInvocations).toBeGreaterThan(1);
    const after = await subject.invoke(["count"]);
    expect(firstJson(after)).toEqual({ invocations: 1, leftover: null });
    await expectServesNext(subject);
  });

  it("an async handler awaiting a promise that never settles times out", async () => {
    const subject = await sandboxFor(hostile(`await new Promise(() => {});`));
    const { result } = await besideNeighbour(next, subject.invoke(["hang"], { timeoutMs: 300 }));
    expectFailure(result, "EDDY_SANDBOX_TIMEOUT", /ran longer than timeoutMs/);
    await expectServesNext(subject);
  });

  it("a loop that starts after an await (beyond the CPU timeout's sight) times out too", async () => {
    const subject = await sandboxFor(hostile(`await new Promise((resolve) => setTimeout(resolve, 10)); for (;;) {}`));
    const { result } = await besideNeighbour(next, subject.invoke(["loop"], { timeoutMs: 300 }));
    expectFailure(result, "EDDY_SANDBOX_TIMEOUT", /ran longer than timeoutMs/);
    await expectServesNext(subject);
  });

  it("Atomics.wait on a SharedArrayBuffer that nobody notifies is cut off by the timeout", async () => {
    const subject = await sandboxFor(hostile(`Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);`));
    const { result } = await besideNeighbour(next, subject.invoke(["wait"], { timeoutMs: 300 }));
    expectFailure(result, "EDDY_SANDBOX_TIMEOUT", /ran longer than timeoutMs/);
    await expectServesNext(subject);
  });

  it("a catastrophically backtracking regular expression is cut off by the timeout", async () => {
    const subject = await sandboxFor(hostile(`/^(a+)+$/.test("a".repeat(64) + "!");`));
    const { result } = await besideNeighbour(next, subject.invoke(["regex"], { timeoutMs: 300 }));
    expectFailure(result, "EDDY_SANDBOX_TIMEOUT", /ran longer than timeoutMs/);
    await expectServesNext(subject);
  });

  it("deep recursion fails the record with RangeError, and the isolate keeps serving", async () => {
    const subject = await sandboxFor(hostile(`const down = (n) => down(n + 1) + 1; down(0);`));
    const result = await subject.invoke(["recurse"]);
    const error = expectFailure(result, undefined, /^RangeError: Maximum call stack size exceeded/);
    expect(error.retriable).toBe(true);
    await expectServesNext(subject);
  });
});

describe("memory", () => {
  it("an array heap bomb fails with EDDY_SANDBOX_MEMORY and the rebuilt isolate starts clean", async () => {
    const subject = await sandboxFor(
      hostile(`invocations += 1; if (event.text() === "count") { await ctx.emit("n", invocations); return; }
        const hoard = []; for (;;) hoard.push({ at: Date.now(), filler: [1, 2, 3, 4, 5, 6, 7, 8] });`, COUNTER),
      { memoryMb: 16 },
    );
    const { result, neighbourInvocations } = await besideNeighbour(next, subject.invoke(["bomb"], { timeoutMs: 20_000 }));
    expectFailure(result, "EDDY_SANDBOX_MEMORY", /ran out of memory \(memoryMb 16\); the isolate was rebuilt/);
    expect(neighbourInvocations).toBeGreaterThanOrEqual(1);
    expect(firstJson(await subject.invoke(["count"]))).toBe(1);
    await expectServesNext(subject);
  });

  it("a string heap bomb (distinct flat strings) fails with EDDY_SANDBOX_MEMORY", async () => {
    const subject = await sandboxFor(hostile(`const keep = []; for (let i = 0; ; i++) keep.push(("x".repeat(65536) + i).toUpperCase());`), { memoryMb: 16 });
    const { result } = await besideNeighbour(next, subject.invoke(["bomb"], { timeoutMs: 20_000 }));
    expectFailure(result, "EDDY_SANDBOX_MEMORY", /ran out of memory/);
    await expectServesNext(subject);
  });

  it("typed-array memory counts against the heap limit: a huge ArrayBuffer fails with RangeError", async () => {
    const subject = await sandboxFor(hostile(`const keep = []; for (;;) keep.push(new ArrayBuffer(8 * 1024 * 1024));`), { memoryMb: 16 });
    const result = await subject.invoke(["buffers"]);
    expectFailure(result, undefined, /^RangeError: Array buffer allocation failed/);
    await expectServesNext(subject);
  });

  it("WebAssembly, whose memories would escape the heap limit, does not exist", async () => {
    const subject = await sandboxFor(hostile(`new WebAssembly.Memory({ initial: 16000 });`));
    const result = await subject.invoke(["wasm"]);
    expectFailure(result, undefined, /^ReferenceError: WebAssembly is not defined/);
    await expectServesNext(subject);
  });
});

describe("invocations sharing an isolate (ordering key or none)", () => {
  const sharing = hostile(`
    const kind = event.text();
    if (kind === "loop") while (true) {}
    if (kind === "bomb") { const hoard = []; for (;;) hoard.push({ filler: [1, 2, 3, 4, 5, 6, 7, 8] }); }
    if (kind === "throw") throw new TypeError("my own failure");
    if (kind === "wait") await new Promise((resolve) => setTimeout(resolve, 50));
    await ctx.emit("out", kind);`);

  it.each([
    ["loop", "EDDY_SANDBOX_TIMEOUT"],
    ["bomb", "EDDY_SANDBOX_MEMORY"],
  ])("only the %s invocation is blamed; the others finish or get EDDY_SANDBOX_RESET (retried without counting)", async (kind, code) => {
    const subject = await sandboxFor(sharing, { memoryMb: 16 });
    const kinds = ["wait", kind, "throw", "good", "wait"];
    const results = await Promise.all(
      kinds.map((k, i) =>
        new Promise((resolve) => setTimeout(resolve, i * 5)).then(() => subject.sandbox.invoke([record(k, i)], { attempt: 1, timeoutMs: kind === "bomb" ? 10_000 : 500 })),
      ),
    );
    const codes = results.map((r) => failure(r.outcomes[0])?.code ?? failure(r.outcomes[0])?.name ?? r.outcomes[0]!.status);
    expect(codes[1]).toBe(code);
    for (const [i, other] of codes.entries()) {
      if (i === 1) continue;
      expect(["ok", "EDDY_SANDBOX_RESET", ...(kinds[i] === "throw" ? ["TypeError"] : [])]).toContain(other);
    }
    await expectServesNext(subject);
  });
});

describe("logs and timers", () => {
  it("a log flood is cut at maxLogLinesPerInvocation; the excess is counted and reported in one line", async () => {
    const subject = await sandboxFor(hostile(`for (let i = 0; i < 100000; i++) console.log("flood", i); ctx.log.error("after the flood");`), {
      limits: { maxLogLinesPerInvocation: 50 },
    });
    const result = await subject.invoke(["flood"]);
    expect(statuses(result)).toEqual(["ok"]);
    expect(result.logsDropped).toBe(100_001 - 50);
    expect(subject.logs).toHaveLength(51);
    expect(subject.logs[49]).toEqual({ level: "info", message: "flood 49" });
    expect(subject.logs[50]).toEqual({
      level: "warn",
      message: "99951 log line(s) dropped: the function logged more than 50 lines in one invocation (maxLogLinesPerInvocation)",
    });
    // The next invocation has its own budget.
    subject.logs.length = 0;
    const again = await sandboxFor(hostile(`console.log("once");`), { limits: { maxLogLinesPerInvocation: 50 } });
    expect((await again.invoke(["x"])).logsDropped).toBeUndefined();
    await expectServesNext(subject);
  });

  it("timers never fire after their invocation ended, not even into the next one", async () => {
    const subject = await sandboxFor(
      hostile(`
        setTimeout(() => { console.log("late timeout"); ctx.emit("late", "x"); }, 30);
        setInterval(() => console.log("late interval"), 5);
        queueMicrotask(() => console.log("microtask runs within the invocation"));`),
    );
    const result = await subject.invoke(["arm"]);
    expect(statuses(result)).toEqual(["ok"]);
    expect(result.emitted).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(subject.logs).toEqual([{ level: "info", message: "microtask runs within the invocation" }]);
    subject.logs.length = 0;
    await expectServesNext(subject);
  });

  it("a timer flood fails with EDDY_SANDBOX_LIMIT at maxPendingTimers", async () => {
    const subject = await sandboxFor(hostile(`for (let i = 0; i < 1e6; i++) setTimeout(() => {}, 60000);`), { limits: { maxPendingTimers: 100 } });
    const result = await subject.invoke(["timers"]);
    const error = expectFailure(result, "EDDY_SANDBOX_LIMIT", /^RangeError: setTimeout: 100 timers are already pending; the limit is 100 \(maxPendingTimers\)/);
    expect(error.retriable).toBe(true);
    await expectServesNext(subject);
  });
});
