import { afterEach, describe, expect, it } from "vitest";
import { bundleFunction } from "./bundler.js";
import { FunctionSandbox, type InvocationResult, type SandboxRecord } from "./function-sandbox.js";

const encoder = new TextEncoder();
const sandboxes: FunctionSandbox[] = [];

afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
});

/** A sandbox around a function whose module body is `source`; `state` as the definition's `state` would set it. */
async function sandboxFor(source: string, state = true): Promise<FunctionSandbox> {
  const code = await bundleFunction({ source: `import { defineFunction, NonRetriableError } from "eddy/sdk";\n${source}` });
  const sandbox = await FunctionSandbox.create({ code, memoryMb: 64, env: {}, function: { name: "stateful", version: 1 }, onLog: () => undefined, state });
  sandboxes.push(sandbox);
  return sandbox;
}

function record(key: string | null, value: unknown, offset: number): SandboxRecord {
  return { topic: "in", partition: 0, offset: String(offset), timestamp: 0, key, value: encoder.encode(JSON.stringify(value)), headers: {} };
}

/** The host's side of one partition's state: JSON text by key. */
function store(entries: Record<string, unknown> = {}): Map<string, string> {
  return new Map(Object.entries(entries).map(([k, v]) => [k, JSON.stringify(v)]));
}

const invoke = (sandbox: FunctionSandbox, records: SandboxRecord[], state: Map<string, string>, order: "sequential" | "by-key" = "sequential") =>
  sandbox.invoke(records, { attempt: 1, timeoutMs: 2_000, order, state: { get: (key) => state.get(key) } });

const failureOf = (result: InvocationResult, i: number) => {
  const outcome = result.outcomes[i];
  return outcome?.status === "failed" ? outcome.error : undefined;
};

describe("ctx.state in the sandbox", () => {
  const counter = `export default defineFunction({ name: "stateful", topics: ["in"], state: {},
    async handle(event, ctx) {
      const seen = (await ctx.state.get()) ?? 0;
      if (event.json().fail) throw new Error("asked to fail");
      ctx.state.set(seen + 1);
      await ctx.emit("out", { key: event.key, seen });
    } });`;

  it("reads the host's value of the record's key, and hands back the writes of the records that succeeded", async () => {
    const sandbox = await sandboxFor(counter);
    const result = await invoke(sandbox, [record("a", {}, 0), record("b", {}, 1), record("a", {}, 2)], store({ a: 5 }));
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok"]);
    // The third record reads the first one's write: later records of an invocation see earlier ones' writes.
    expect(result.emitted.map((e) => JSON.parse(new TextDecoder().decode(e.value!)))).toEqual([
      { key: "a", seen: 5 },
      { key: "b", seen: 0 },
      { key: "a", seen: 6 },
    ]);
    expect(result.stateWrites).toEqual([
      { key: "a", value: "6", recordIndex: 0 },
      { key: "b", value: "1", recordIndex: 1 },
      { key: "a", value: "7", recordIndex: 2 },
    ]);
  });

  it("drops the writes of a failed record, and of the records it skipped", async () => {
    const sandbox = await sandboxFor(counter);
    const result = await invoke(sandbox, [record("a", {}, 0), record("b", { fail: true }, 1), record("c", {}, 2)], store());
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "failed", "skipped"]);
    expect(result.stateWrites).toEqual([{ key: "a", value: "1", recordIndex: 0 }]);
  });

  it("reads and writes other keys of the partition, deletes, and runs keys side by side with ordering by key", async () => {
    const sandbox = await sandboxFor(`export default defineFunction({ name: "stateful", topics: ["in"], state: {}, ordering: "key",
      async handle(event, ctx) {
        const totals = (await ctx.state.get("totals")) ?? { n: 0 };
        await new Promise((resolve) => setTimeout(resolve, 5));
        ctx.state.set("totals", { n: totals.n + 1 });
        if (event.key === "gone") ctx.state.delete();
        await ctx.emit("out", await ctx.state.get("totals"));
      } });`);
    const result = await invoke(sandbox, [record("x", 1, 0), record("gone", 2, 1)], store({ totals: { n: 10 }, gone: true }), "by-key");
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "ok"]);
    // Both keys ran at once and read the same total: state of another key is not locked (documented).
    expect(result.stateWrites).toEqual([
      { key: "totals", value: '{"n":11}', recordIndex: 0 },
      { key: "totals", value: '{"n":11}', recordIndex: 1 },
      { key: "gone", value: null, recordIndex: 1 },
    ]);
  });

  it("refuses what can never be stored: not retried, and the record fails even if the handler catches it", async () => {
    const sandbox = await sandboxFor(`export default defineFunction({ name: "stateful", topics: ["in"], state: {},
      async handle(event, ctx) {
        const what = event.json();
        try {
          if (what === "undefined") ctx.state.set(undefined);
          if (what === "cycle") { const o = {}; o.o = o; ctx.state.set(o); }
          if (what === "huge") ctx.state.set("x".repeat(1_100_000));
          if (what === "no-key") await ctx.state.get();
        } catch {}
      } });`);
    const records = ["undefined", "cycle", "huge", "no-key"].map((what, i) => record(what === "no-key" ? null : "k", what, i));
    const state = store();
    const result = await sandbox.invoke(records, { attempt: 1, timeoutMs: 2_000, stopOnFailure: false, state: { get: (key) => state.get(key) } });
    expect(result.outcomes.map((o) => o.status)).toEqual(["failed", "failed", "failed", "failed"]);
    expect([0, 1, 2].map((i) => failureOf(result, i)?.code)).toEqual(["EDDY_SANDBOX_INVALID_STATE", "EDDY_SANDBOX_INVALID_STATE", "EDDY_SANDBOX_INVALID_STATE"]);
    expect(failureOf(result, 2)?.message).toContain("maxStateValueBytes");
    expect(failureOf(result, 3)).toMatchObject({ code: "EDDY_SANDBOX_STATE_UNAVAILABLE", retriable: false });
    expect(failureOf(result, 3)?.message).toContain("this record has no key");
    expect(result.stateWrites).toBeUndefined();
  });

  it("says how to turn state on when the definition has none", async () => {
    const sandbox = await sandboxFor(`export default defineFunction({ name: "stateful", topics: ["in"], async handle(event, ctx) { await ctx.state.get(); } });`, false);
    const result = await invoke(sandbox, [record("k", 1, 0)], store());
    expect(failureOf(result, 0)).toMatchObject({ code: "EDDY_SANDBOX_STATE_UNAVAILABLE", retriable: false });
    expect(failureOf(result, 0)?.message).toContain("add `state: {}` to its definition");
  });

  it("gives handleBatch named keys only, and keeps its writes when a record of the batch succeeded", async () => {
    const sandbox = await sandboxFor(`export default defineFunction({ name: "stateful", topics: ["in"], state: {},
      async handleBatch(events, ctx) {
        for (const event of events) ctx.state.set(event.key, ((await ctx.state.get(event.key)) ?? 0) + event.json());
        return { failed: events.filter((e) => e.json() < 0) };
      } });`);
    const result = await invoke(sandbox, [record("a", 2, 0), record("a", 3, 1), record("b", -1, 2)], store({ a: 1 }));
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "failed"]);
    expect(result.stateWrites).toEqual([
      { key: "a", value: "6", recordIndex: -1 },
      { key: "b", value: "-1", recordIndex: -1 },
    ]);
  });
});

describe("ctx.emit next to ctx.state", () => {
  it("refuses to emit to the function's own changelog", async () => {
    const sandbox = await sandboxFor(`export default defineFunction({ name: "stateful", topics: ["in"], state: {},
      async handle(event, ctx) { await ctx.emit("stateful.state", 1, { key: event.key }); } });`);
    const result = await invoke(sandbox, [record("k", 1, 0)], store());
    expect(failureOf(result, 0)).toMatchObject({ code: "EDDY_SANDBOX_RESERVED_TOPIC", retriable: false });
    expect(failureOf(result, 0)?.message).toContain("this function's state changelog");
  });
});
