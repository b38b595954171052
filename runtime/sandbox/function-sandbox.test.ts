import { afterEach, describe, expect, it } from "vitest";
import type { EddyError } from "../eddy-error.js";
import { bundleFunction } from "./bundler.js";
import { FunctionSandbox, type InvocationResult, type LogLevel, type RecordOutcome, type SandboxRecord } from "./function-sandbox.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sandboxes: FunctionSandbox[] = [];

afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
});

interface Harness {
  sandbox: FunctionSandbox;
  logs: { level: LogLevel; message: string }[];
}

/** A sandbox around a function whose module body is `source` (eddy/sdk's exports are in scope). */
async function sandboxFor(source: string, options: { memoryMb?: number; env?: Record<string, string> } = {}): Promise<Harness> {
  const code = await bundleFunction({
    source: `import { defineFunction, NonRetriableError, RetryAfterError, BatchItemFailures } from "eddy/sdk";\n${source}`,
  });
  const logs: Harness["logs"] = [];
  const sandbox = await FunctionSandbox.create({
    code,
    memoryMb: options.memoryMb ?? 64,
    env: options.env ?? {},
    function: { name: "under-test", version: 7 },
    onLog: (level, message) => logs.push({ level, message }),
  });
  sandboxes.push(sandbox);
  return { sandbox, logs };
}

function record(value: string | Uint8Array | null, offset = 0, overrides: Partial<SandboxRecord> = {}): SandboxRecord {
  return {
    topic: "in",
    partition: 2,
    offset: String(offset),
    timestamp: 1_700_000_000_000 + offset,
    key: `k${offset}`,
    value: typeof value === "string" ? encoder.encode(value) : value,
    headers: { "x-test": "yes" },
    ...overrides,
  };
}

const records = (...values: string[]) => values.map((value, i) => record(value, i));
const statuses = (result: InvocationResult) => result.outcomes.map((o) => o.status);
const failure = (outcome: RecordOutcome | undefined) => (outcome?.status === "failed" ? outcome.error : undefined);
const text = (value: Uint8Array | null) => (value === null ? null : decoder.decode(value));
const invoke = (sandbox: FunctionSandbox, input: SandboxRecord[], timeoutMs = 2_000, stopOnFailure?: boolean) =>
  sandbox.invoke(input, { attempt: 1, timeoutMs, stopOnFailure });

describe("FunctionSandbox: loading", () => {
  it("describes the definition: name, topics, handler kind and the other fields as JSON", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({
        name: "orders", topics: ["a", "b"], retry: { maxAttempts: 3 }, ordering: "key", env: { A: "1" },
        helper() {}, handleBatch() {},
      });`);
    expect(sandbox.describe()).toEqual({
      name: "orders",
      topics: ["a", "b"],
      handler: "handleBatch",
      config: { retry: { maxAttempts: 3 }, ordering: "key", env: { A: "1" } },
    });
  });

  it.each([
    ["no default export", `export const x = 1;`, /no default export/],
    ["a default export that is not an object", `export default 42;`, /default export: expected defineFunction/],
    ["no name and no topics", `export default { handle() {} };`, /name: expected a non-empty string, got undefined; topics: expected a non-empty array/],
    ["no handler", `export default { name: "x", topics: ["t"] };`, /handle: expected a function handle\(event, ctx\) or handleBatch/],
    ["both handlers", `export default { name: "x", topics: ["t"], handle() {}, handleBatch() {} };`, /define one handler, not both/],
    ["a handler that is not a function", `export default { name: "x", topics: ["t"], handle: "yes" };`, /handle: expected a function, got yes/],
    ["top-level code that throws", `throw new TypeError("bad start"); export default {};`, /top-level code threw TypeError: bad start/],
    ["top-level code that loops", `while (true) {} export default {};`, /top-level code ran longer than/],
  ])("rejects %s with EDDY_SANDBOX_INVALID_FUNCTION", async (_, source, message) => {
    const code = await bundleFunction({ source });
    const error = (await FunctionSandbox.create({
      code,
      memoryMb: 32,
      env: {},
      function: { name: "x", version: 1 },
      onLog: () => {},
      loadTimeoutMs: 200,
    }).catch((e: unknown) => e)) as EddyError;
    expect(error.code).toBe("EDDY_SANDBOX_INVALID_FUNCTION");
    expect(error.userError).toBe(true);
    expect(error.message).toMatch(message);
  });
});

describe("FunctionSandbox: handle", () => {
  it("emits JSON, strings and bytes, with keys, headers and the index of the record", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], async handle(event, ctx) {
        await ctx.emit("json", { offset: event.offset, n: 1 }, { key: event.key, headers: { h: "v" } });
        await ctx.emit("text", "héllo " + event.text());
        ctx.emit("bytes", new Uint8Array([0, 255, 7]));
        ctx.emit("tombstone", null, { key: "gone" });
      } });`);
    const result = await invoke(sandbox, records("a", "b"));
    expect(statuses(result)).toEqual(["ok", "ok"]);
    expect(result.emitted.map((e) => ({ ...e, value: e.topic === "bytes" ? Array.from(e.value!) : text(e.value) }))).toEqual([
      { topic: "json", key: "k0", value: '{"offset":"0","n":1}', headers: { h: "v" }, recordIndex: 0 },
      { topic: "text", key: null, value: "héllo a", headers: {}, recordIndex: 0 },
      { topic: "bytes", key: null, value: [0, 255, 7], headers: {}, recordIndex: 0 },
      { topic: "tombstone", key: "gone", value: null, headers: {}, recordIndex: 0 },
      { topic: "json", key: "k1", value: '{"offset":"1","n":1}', headers: { h: "v" }, recordIndex: 1 },
      { topic: "text", key: null, value: "héllo b", headers: {}, recordIndex: 1 },
      { topic: "bytes", key: null, value: [0, 255, 7], headers: {}, recordIndex: 1 },
      { topic: "tombstone", key: "gone", value: null, headers: {}, recordIndex: 1 },
    ]);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it("decodes UTF-8 values with text() and json(), non-ASCII included, and passes record fields through", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle(event, ctx) {
        const { topic, partition, offset, timestamp, key, headers } = event;
        ctx.emit("out", { text: event.text(), json: event.value && event.text().startsWith("{") ? event.json() : null,
          bytes: event.value ? event.value.length : null, topic, partition, offset, timestamp, key, headers });
      } });`);
    const result = await invoke(sandbox, [record('{"name":"Zoë","city":"東京","emoji":"🎉"}', 0), record("naïve café – ok", 1), record(null, 2, { key: null })]);
    const emitted = result.emitted.map((e) => JSON.parse(text(e.value)!));
    expect(emitted[0]).toEqual({
      text: '{"name":"Zoë","city":"東京","emoji":"🎉"}',
      json: { name: "Zoë", city: "東京", emoji: "🎉" },
      bytes: encoder.encode('{"name":"Zoë","city":"東京","emoji":"🎉"}').length,
      topic: "in", partition: 2, offset: "0", timestamp: 1_700_000_000_000, key: "k0", headers: { "x-test": "yes" },
    });
    expect(emitted[1]).toMatchObject({ text: "naïve café – ok", json: null });
    expect(emitted[2]).toMatchObject({ text: "", bytes: null, key: null });
  });

  it("a throw fails only that record, drops its emits and skips the rest", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], async handle(event, ctx) {
        await ctx.emit("out", event.text());
        if (event.text() === "bad") throw new Error("bad record " + event.offset);
      } });`);
    const result = await invoke(sandbox, records("a", "bad", "c", "d"));
    expect(statuses(result)).toEqual(["ok", "failed", "skipped", "skipped"]);
    expect(failure(result.outcomes[1])).toMatchObject({ name: "Error", message: "bad record 1", retriable: true });
    expect(failure(result.outcomes[1])?.stack).toContain("bad record 1");
    expect(result.emitted.map((e) => text(e.value))).toEqual(["a"]);
  });

  it("runs the records after a failure when stopOnFailure is false", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle(event) { if (event.text() === "bad") throw new Error("x"); } });`);
    expect(statuses(await invoke(sandbox, records("bad", "b", "bad"), 2_000, false))).toEqual(["failed", "ok", "failed"]);
  });

  it("marks a NonRetriableError as not retriable, by code", async () => {
    const { sandbox } = await sandboxFor(`
      class Declined extends NonRetriableError {}
      export default defineFunction({ name: "f", topics: ["in"], handle() { throw new Declined("card declined"); } });`);
    const error = failure((await invoke(sandbox, records("a"))).outcomes[0]);
    expect(error).toMatchObject({ message: "card declined", code: "EDDY_NON_RETRIABLE", retriable: false });
  });

  it("carries a RetryAfterError's delay", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle() { throw new RetryAfterError("rate limited", 2500); } });`);
    const error = failure((await invoke(sandbox, records("a"))).outcomes[0]);
    expect(error).toMatchObject({ name: "RetryAfterError", message: "rate limited", code: "EDDY_RETRY_AFTER", retriable: true, retryAfterMs: 2500 });
  });

  it.each([
    ["a string", `throw "plain string";`, { name: "Error", message: "plain string" }],
    ["a number", `throw 42;`, { name: "Error", message: "42" }],
    ["undefined", `throw undefined;`, { name: "Error", message: "undefined" }],
    ["a plain object", `throw { reason: "nope" };`, { name: "Error", message: '{ reason: "nope" }' }],
    ["an object with its own code", `throw Object.assign(new Error("reset"), { code: "ECONNRESET" });`, { message: "reset", code: "ECONNRESET" }],
    ["an error whose getters throw", `const e = new Error("x"); for (const k of ["name", "message", "stack"]) Object.defineProperty(e, k, { get() { throw new Error("gotcha"); } }); throw e;`, { name: "Error", retriable: true }],
    ["a Proxy that throws on every trap", `throw new Proxy({}, new Proxy({}, { get() { return () => { throw new Error("trap"); }; } }));`, { name: "Error", retriable: true }],
    ["a revoked Proxy", `const p = Proxy.revocable({}, {}); p.revoke(); throw p.proxy;`, { name: "Error", retriable: true }],
    ["a forged EDDY_ code", `throw Object.assign(new Error("x"), { code: "EDDY_SANDBOX_TIMEOUT" });`, { message: "x", code: undefined }],
  ])("serializes a thrown %s without throwing", async (_, statement, expected) => {
    const { sandbox } = await sandboxFor(`export default defineFunction({ name: "f", topics: ["in"], handle() { ${statement} } });`);
    const result = await invoke(sandbox, records("a", "b"));
    expect(statuses(result)).toEqual(["failed", "skipped"]);
    const error = failure(result.outcomes[0]) as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries({ retriable: true, ...expected })) expect(error[field], field).toEqual(value);
  });

  it("fails the record when ctx.emit gets a bad topic, naming the field, and does not retry it", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle(event, ctx) { ctx.emit("bad topic!", "x"); } });`);
    const error = failure((await invoke(sandbox, records("a"))).outcomes[0]);
    expect(error?.message).toMatch(/ctx\.emit: topic: expected a Kafka topic name/);
    // It can never succeed: not retried, so the record is dead-lettered at once (no partition stuck behind it).
    expect(error).toMatchObject({ name: "TypeError", code: "EDDY_SANDBOX_INVALID_EMIT", retriable: false });
  });

  it("gives ctx the env, the attempt and the function", async () => {
    const { sandbox } = await sandboxFor(
      `export default defineFunction({ name: "f", topics: ["in"], handle(event, ctx) {
        ctx.emit("out", { env: ctx.env, attempt: ctx.attempt, fn: ctx.function, frozen: Object.isFrozen(ctx.env) });
      } });`,
      { env: { REGION: "eu" } },
    );
    const result = await sandbox.invoke(records("a"), { attempt: 3, timeoutMs: 2_000 });
    expect(JSON.parse(text(result.emitted[0]!.value)!)).toEqual({ env: { REGION: "eu" }, attempt: 3, fn: { name: "under-test", version: 7 }, frozen: true });
  });

  it("runs overlapping invocations in the one isolate", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], async handle(event, ctx) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ctx.emit("out", event.text());
      } });`);
    const [a, b] = await Promise.all([invoke(sandbox, records("a1", "a2")), invoke(sandbox, records("b1"))]);
    expect(a.emitted.map((e) => text(e.value))).toEqual(["a1", "a2"]);
    expect(b.emitted.map((e) => text(e.value))).toEqual(["b1"]);
  });
});

describe("FunctionSandbox: handle, order", () => {
  // Each record logs when it starts and when it ends, after a wait that makes later records of other keys overtake it.
  const tracing = `
    export default defineFunction({ name: "f", topics: ["in"], async handle(event, ctx) {
      const [, wait, fail] = event.text().split(":");
      console.log("start " + event.offset);
      await new Promise((resolve) => setTimeout(resolve, Number(wait)));
      if (fail === "fail") throw new Error("failed " + event.offset);
      console.log("end " + event.offset);
      ctx.emit("out", event.offset);
    } });`;
  const keyed = (key: string | null, offset: number, value: string) => record(value, offset, { key });
  const batch = [keyed("a", 0, "a:30"), keyed("b", 1, "b:5"), keyed("a", 2, "a:0"), keyed(null, 3, "n:0"), keyed("b", 4, "b:0")];

  it("by-key: runs different keys concurrently and each key's records in order", async () => {
    const { sandbox, logs } = await sandboxFor(tracing);
    const result = await sandbox.invoke(batch, { attempt: 1, timeoutMs: 2_000, order: "by-key" });
    expect(statuses(result)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    const lines = logs.map((l) => l.message);
    // Everything's first record starts at once; "a"'s second waits for its first.
    expect(lines.slice(0, 3)).toEqual(["start 0", "start 1", "start 3"]);
    expect(lines.indexOf("start 2")).toBeGreaterThan(lines.indexOf("end 0"));
    expect(lines.indexOf("start 4")).toBeGreaterThan(lines.indexOf("end 1"));
    expect(result.emitted.map((e) => e.recordIndex).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("by-key: a failure skips only the later records of its own key", async () => {
    const { sandbox } = await sandboxFor(tracing);
    const failing = [keyed("a", 0, "a:5:fail"), keyed("b", 1, "b:0"), keyed("a", 2, "a:0"), keyed("b", 3, "b:0")];
    const result = await sandbox.invoke(failing, { attempt: 1, timeoutMs: 2_000, order: "by-key" });
    expect(statuses(result)).toEqual(["failed", "ok", "skipped", "ok"]);
  });

  it("none: runs every record concurrently; sequential (the default) runs them one after another", async () => {
    const concurrent = await sandboxFor(tracing);
    await concurrent.sandbox.invoke(batch, { attempt: 1, timeoutMs: 2_000, order: "none" });
    expect(concurrent.logs.slice(0, 5).map((l) => l.message)).toEqual(["start 0", "start 1", "start 2", "start 3", "start 4"]);
    const sequential = await sandboxFor(tracing);
    await invoke(sequential.sandbox, batch);
    expect(sequential.logs.slice(0, 4).map((l) => l.message)).toEqual(["start 0", "end 0", "start 1", "end 1"]);
  });
});

describe("FunctionSandbox: handleBatch", () => {
  const batchFunction = (body: string) => `
    export default defineFunction({ name: "f", topics: ["in"], async handleBatch(events, ctx) {
      await ctx.emit("out", "batch of " + events.length);
      ${body}
    } });`;

  it("calls the handler once with every event", async () => {
    const { sandbox } = await sandboxFor(batchFunction(`await ctx.emit("texts", events.map((e) => e.text()));`));
    const result = await invoke(sandbox, records("a", "b", "c"));
    expect(statuses(result)).toEqual(["ok", "ok", "ok"]);
    expect(result.emitted.map((e) => [text(e.value), e.recordIndex])).toEqual([["batch of 3", -1], ['["a","b","c"]', -1]]);
  });

  it("fails only the events returned in `failed`, keeping the batch's emits", async () => {
    const { sandbox } = await sandboxFor(batchFunction(`return { failed: events.filter((e) => e.text().startsWith("bad")) };`));
    const result = await invoke(sandbox, records("a", "bad1", "c", "bad2"));
    expect(statuses(result)).toEqual(["ok", "failed", "ok", "failed"]);
    expect(failure(result.outcomes[1])).toMatchObject({ code: "EDDY_BATCH_ITEM_FAILURES", retriable: true });
    expect(result.emitted).toHaveLength(1);
  });

  it("fails only the events of a thrown BatchItemFailures", async () => {
    const { sandbox } = await sandboxFor(batchFunction(`throw new BatchItemFailures([events[1]], "second is broken");`));
    const result = await invoke(sandbox, records("a", "b", "c"));
    expect(statuses(result)).toEqual(["ok", "failed", "ok"]);
    expect(failure(result.outcomes[1])).toMatchObject({ name: "BatchItemFailures", message: "second is broken", code: "EDDY_BATCH_ITEM_FAILURES" });
  });

  it("matches failed events by topic, partition and offset when they are copies", async () => {
    const { sandbox } = await sandboxFor(batchFunction(`return { failed: [{ topic: "in", partition: 2, offset: "2" }] };`));
    expect(statuses(await invoke(sandbox, records("a", "b", "c")))).toEqual(["ok", "ok", "failed"]);
  });

  it("fails the whole batch and drops its emits on a plain throw", async () => {
    const { sandbox } = await sandboxFor(batchFunction(`throw new Error("downstream down");`));
    const result = await invoke(sandbox, records("a", "b"));
    expect(statuses(result)).toEqual(["failed", "failed"]);
    expect(failure(result.outcomes[0])?.message).toBe("downstream down");
    expect(result.emitted).toEqual([]);
  });

  it("fails the whole batch when `failed` holds something that is not one of its events", async () => {
    const { sandbox } = await sandboxFor(batchFunction(`return { failed: ["nope"] };`));
    const result = await invoke(sandbox, records("a", "b"));
    expect(statuses(result)).toEqual(["failed", "failed"]);
    expect(failure(result.outcomes[0])).toMatchObject({ code: "EDDY_SANDBOX_INVALID_BATCH_RESULT", message: expect.stringContaining("failed[0]") });
  });
});

describe("FunctionSandbox: limits", () => {
  it("times out a CPU loop, keeps what finished before it, and serves the next invocation", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle(event, ctx) {
        if (event.text() === "loop") while (true) {}
        ctx.emit("out", event.text());
      } });`);
    const started = performance.now();
    const result = await invoke(sandbox, records("a", "loop", "c"), 300);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(statuses(result)).toEqual(["ok", "failed", "failed"]);
    expect(failure(result.outcomes[1])).toMatchObject({ code: "EDDY_SANDBOX_TIMEOUT", retriable: true });
    expect(failure(result.outcomes[2])?.code).toBe("EDDY_SANDBOX_TIMEOUT");
    expect(result.emitted.map((e) => text(e.value))).toEqual(["a"]);

    const next = await invoke(sandbox, records("d"));
    expect(statuses(next)).toEqual(["ok"]);
    expect(next.emitted.map((e) => text(e.value))).toEqual(["d"]);
  });

  it("times out a promise that never settles", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], async handle(event) {
        if (event.text() === "hang") await new Promise(() => {});
      } });`);
    const result = await invoke(sandbox, records("a", "hang"), 300);
    expect(statuses(result)).toEqual(["ok", "failed"]);
    expect(failure(result.outcomes[1])?.code).toBe("EDDY_SANDBOX_TIMEOUT");
    expect(statuses(await invoke(sandbox, records("b")))).toEqual(["ok"]);
  });

  it("times out a loop that starts after an await, which the CPU timeout cannot see", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], async handle(event) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (event.text() === "loop") while (true) {}
      } });`);
    // The isolate is too busy to hand over its progress, so the whole invocation fails.
    const result = await invoke(sandbox, records("loop", "b"), 300);
    expect(result.outcomes.map((o) => failure(o)?.code)).toEqual(["EDDY_SANDBOX_TIMEOUT", "EDDY_SANDBOX_TIMEOUT"]);
    expect(statuses(await invoke(sandbox, records("c"), 300))).toEqual(["ok"]);
  });

  it("fails a heap overflow with EDDY_SANDBOX_MEMORY and serves the next invocation", async () => {
    const { sandbox } = await sandboxFor(
      `export default defineFunction({ name: "f", topics: ["in"], handle(event, ctx) {
        if (event.text() === "bomb") { const hoard = []; while (true) hoard.push({ at: Date.now(), filler: "x".repeat(64) + Math.random() }); }
        ctx.emit("out", event.text());
      } });`,
      { memoryMb: 16 },
    );
    const result = await invoke(sandbox, records("a", "bomb"), 20_000);
    expect(result.outcomes.map((o) => failure(o)?.code)).toEqual(["EDDY_SANDBOX_MEMORY", "EDDY_SANDBOX_MEMORY"]);
    expect(result.emitted).toEqual([]);
    const next = await invoke(sandbox, records("b"));
    expect(statuses(next)).toEqual(["ok"]);
    expect(next.emitted.map((e) => text(e.value))).toEqual(["b"]);
  });

  it("cancels the timers of an invocation when it ends", async () => {
    const { sandbox, logs } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle() {
        setTimeout(() => console.log("late timer fired"), 30);
        const id = setInterval(() => console.log("interval"), 5);
      } });`);
    await invoke(sandbox, records("a"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(logs).toEqual([]);
  });
});

describe("FunctionSandbox: globals", () => {
  it("has no process, require, Buffer or other Node globals", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle(event, ctx) {
        // esbuild rewrites a literal \`typeof require\` to its own shim, so ask the global scope itself.
        const globalTypeof = (name) => new Function("return typeof " + name)();
        const names = ["process", "require", "module", "exports", "Buffer", "global", "setImmediate", "__dirname", "fetch"];
        ctx.emit("out", { direct: typeof process, ...Object.fromEntries(names.map((n) => [n, globalTypeof(n)])),
          onGlobalThis: names.filter((n) => n in globalThis) });
      } });`);
    const result = await invoke(sandbox, records("a"));
    expect(JSON.parse(text(result.emitted[0]!.value)!)).toEqual({
      direct: "undefined",
      process: "undefined",
      require: "undefined",
      module: "undefined",
      exports: "undefined",
      Buffer: "undefined",
      global: "undefined",
      setImmediate: "undefined",
      __dirname: "undefined",
      fetch: "undefined",
      onGlobalThis: [],
    });
  });

  it("sends console.* and ctx.log.* to onLog with their levels", async () => {
    const { sandbox, logs } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle(event, ctx) {
        console.log("hello", event.offset, { a: [1, "x"] });
        console.warn("%s has %d items", "cart", 3);
        console.error(new Error("oops"));
        ctx.log.debug("debugging");
        ctx.log.info("info");
      } });`);
    await invoke(sandbox, records("a"));
    expect(logs.map((l) => l.level)).toEqual(["info", "warn", "error", "debug", "info"]);
    expect(logs[0]!.message).toBe('hello 0 { a: [1, "x"] }');
    expect(logs[1]!.message).toBe("cart has 3 items");
    expect(logs[2]!.message).toMatch(/^Error: oops\n\s+at /);
  });

  it("logs an unhandled rejection and still succeeds the record", async () => {
    const { sandbox, logs } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], handle() { Promise.reject(new RangeError("forgotten")); } });`);
    const result = await invoke(sandbox, records("a"));
    expect(statuses(result)).toEqual(["ok"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logs).toContainEqual({ level: "error", message: "Unhandled promise rejection: RangeError: forgotten" });
  });

  it("has UTF-8 TextEncoder/TextDecoder, atob/btoa and timers", async () => {
    const { sandbox } = await sandboxFor(`
      export default defineFunction({ name: "f", topics: ["in"], async handle(event, ctx) {
        const bytes = new TextEncoder().encode("日本 🎉");
        const waited = await new Promise((resolve) => setTimeout(() => resolve("waited"), 10));
        ctx.emit("out", {
          bytes: Array.from(bytes),
          back: new TextDecoder().decode(bytes),
          invalid: new TextDecoder().decode(new Uint8Array([0x61, 0xc3, 0x28])),
          b64: btoa("hi!"), unb64: atob("aGkh"),
          waited,
          microtask: await new Promise((resolve) => queueMicrotask(() => resolve(true))),
        });
      } });`);
    const result = await invoke(sandbox, records("a"));
    expect(JSON.parse(text(result.emitted[0]!.value)!)).toEqual({
      bytes: Array.from(encoder.encode("日本 🎉")),
      back: "日本 🎉",
      invalid: "a\uFFFD(",
      b64: "aGkh",
      unb64: "hi!",
      waited: "waited",
      microtask: true,
    });
  });

  it("refuses invoke() after dispose()", async () => {
    const { sandbox } = await sandboxFor(`export default defineFunction({ name: "f", topics: ["in"], handle() {} });`);
    sandbox.dispose();
    await expect(invoke(sandbox, records("a"))).rejects.toMatchObject({ code: "EDDY_SANDBOX_DISPOSED" });
  });
});
