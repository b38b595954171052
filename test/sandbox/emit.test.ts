// ctx.emit against Eddy's own topics and past the emit limits: refused at the emit with a readable,
// coded error, and refused again on the host when the function has disabled the harness's checks.
import { afterEach, describe, expect, it } from "vitest";
import { disposeSandboxes, emittedTexts, expectFailure, expectServesNext, hostile, sandboxFor, statuses } from "./sandbox-helpers.js";

afterEach(() => disposeSandboxes());

describe("Eddy's internal topics", () => {
  it.each([
    ["eddy.functions (the registry)", "eddy.functions", undefined, /topic "eddy\.functions" is Eddy's function registry; functions cannot write to it/],
    ["a topic under the runtime's prefix", "acme.internal-state", "acme.", /topic "acme\.internal-state" belongs to Eddy \(topics starting with "acme\."\)/],
    ["the registry under a custom prefix", "acme.functions", "acme.", /topic "acme\.functions" is Eddy's function registry/],
    ["eddy.functions whatever the prefix", "eddy.functions", "acme.", /is Eddy's function registry/],
    ["Kafka's __consumer_offsets", "__consumer_offsets", undefined, /topic "__consumer_offsets" is internal to Kafka/],
  ])("emitting to %s fails with EDDY_SANDBOX_RESERVED_TOPIC, not retriable, even when caught", async (_, topic, topicPrefix, message) => {
    const subject = await sandboxFor(hostile(`try { await ctx.emit(${JSON.stringify(topic)}, { name: "evil", code: "overwrite" }); } catch {}`), { topicPrefix });
    const result = await subject.invoke(["emit"]);
    const error = expectFailure(result, "EDDY_SANDBOX_RESERVED_TOPIC", message);
    expect(error.retriable).toBe(false);
    expect(result.emitted).toEqual([]);
    await expectServesNext(subject);
  });

  it("topics that only look alike are allowed", async () => {
    const subject = await sandboxFor(hostile(`for (const t of ["eddy-functions", "my.eddy.functions", "functions"]) await ctx.emit(t, "ok");`));
    const result = await subject.invoke(["emit"]);
    expect(statuses(result)).toEqual(["ok"]);
    expect(result.emitted.map((e) => e.topic)).toEqual(["eddy-functions", "my.eddy.functions", "functions"]);
  });
});

describe("emit limits", () => {
  it("an emit larger than maxEmitRecordBytes fails with EDDY_SANDBOX_EMIT_TOO_LARGE, not retriable", async () => {
    const subject = await sandboxFor(hostile(`await ctx.emit("out", "x".repeat(1024 * 1024 + 1));`));
    const result = await subject.invoke(["big"]);
    const error = expectFailure(
      result,
      "EDDY_SANDBOX_EMIT_TOO_LARGE",
      /^RangeError: ctx\.emit: the record for topic "out" is 1048577 bytes \(value, key and headers\); the limit is 1048576 bytes per record \(maxEmitRecordBytes\)/,
    );
    expect(error.retriable).toBe(false);
    expect(result.emitted).toEqual([]);
    await expectServesNext(subject);
  });

  it("key and header bytes count toward the record's size", async () => {
    const subject = await sandboxFor(hostile(`await ctx.emit("out", "v", { key: "k".repeat(600), headers: { h: "é".repeat(300) } });`), {
      limits: { maxEmitRecordBytes: 1_000 },
    });
    expectFailure(await subject.invoke(["big"]), "EDDY_SANDBOX_EMIT_TOO_LARGE", /is 1202 bytes/);
  });

  it("an invocation over maxEmitBytesPerInvocation fails the record that crossed it (retriable); earlier records keep their emits", async () => {
    const subject = await sandboxFor(hostile(`await ctx.emit("out", event.text() + ":" + "x".repeat(400));`), { limits: { maxEmitBytesPerInvocation: 1_000 } });
    const result = await subject.invoke(["a", "b", "c", "d"]);
    expect(statuses(result)).toEqual(["ok", "ok", "failed", "skipped"]);
    const error = expectFailure(result, "EDDY_SANDBOX_EMIT_LIMIT", /this invocation would emit 1206 bytes; the limit is 1000 bytes per invocation \(maxEmitBytesPerInvocation\)/, 2);
    expect(error.retriable).toBe(true);
    expect(emittedTexts(result).map((t) => t!.slice(0, 2))).toEqual(["a:", "b:"]);
    // A retry starts with a fresh budget.
    expect(statuses(await subject.invoke(["c", "d"]))).toEqual(["ok", "ok"]);
  });

  it("an emit flood fails at maxEmitsPerInvocation", async () => {
    const subject = await sandboxFor(hostile(`for (let i = 0; i < 1e6; i++) ctx.emit("out", "");`), { limits: { maxEmitsPerInvocation: 500 } });
    const result = await subject.invoke(["flood"]);
    expectFailure(result, "EDDY_SANDBOX_EMIT_LIMIT", /already emitted 500 records; the limit is 500 per invocation \(maxEmitsPerInvocation\)/);
    expect(result.emitted).toEqual([]);
    await expectServesNext(subject);
  });
});

describe("the host enforces the emit rules itself", () => {
  it("a function that disables the harness's checks still cannot emit to eddy.functions or past the size limit", async () => {
    const subject = await sandboxFor(
      hostile(
        `if (event.text() === "registry") await ctx.emit("eddy.functions", "overwrite");
         if (event.text() === "big") await ctx.emit("out", new Uint8Array(4096));
         if (event.text() === "fine") await ctx.emit("out", "fine");`,
        // Blind the harness: every reserved-topic test says no, every byte count says zero.
        `String.prototype.startsWith = () => false;
         Array.prototype.includes = () => false;
         Object.defineProperty(Object.getPrototypeOf(Uint8Array.prototype), "byteLength", { get() { return 0; } });`,
      ),
      { limits: { maxEmitRecordBytes: 1_000 } },
    );
    const result = await subject.invoke(["fine", "registry", "big"], { stopOnFailure: false });
    expect(statuses(result)).toEqual(["ok", "failed", "failed"]);
    expectFailure(result, "EDDY_SANDBOX_RESERVED_TOPIC", /eddy\.functions/, 1);
    expectFailure(result, "EDDY_SANDBOX_EMIT_TOO_LARGE", /an emitted record is 4096 bytes; the limit is 1000/, 2);
    expect(result.emitted.map((e) => [e.topic, new TextDecoder().decode(e.value!)])).toEqual([["out", "fine"]]);

    // With stopOnFailure (the default), what came after the refused record counts as not run.
    const sequential = await subject.invoke(["registry", "fine"]);
    expect(statuses(sequential)).toEqual(["failed", "skipped"]);
    expect(sequential.emitted).toEqual([]);
  });
});
