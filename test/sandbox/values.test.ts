// Values built to break whoever reads them: Proxies, getters that throw, cycles, things that cannot
// be cloned. Whatever the function returns, throws or emits, the host gets plain data and a
// readable error, never an exception of its own.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  besideNeighbour,
  disposeSandboxes,
  expectFailure,
  expectServesNext,
  hostile,
  neighbour,
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

const TRAPS = `const trap = () => { throw new Error("trap sprung"); };
const booby = new Proxy({}, { get: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap });`;

describe("returned values", () => {
  it("a handler returning a Proxy whose traps throw fails with the trap's error", async () => {
    const subject = await sandboxFor(hostile(`return booby;`, TRAPS));
    const { result } = await besideNeighbour(next, subject.invoke(["proxy"]));
    expectFailure(result, undefined, /^Error: trap sprung/);
    await expectServesNext(subject);
  });

  it("a handler returning a thenable that never calls back times out", async () => {
    const subject = await sandboxFor(hostile(`return { then() {} };`));
    expectFailure(await subject.invoke(["thenable"], { timeoutMs: 300 }), "EDDY_SANDBOX_TIMEOUT", /ran longer than timeoutMs/);
    await expectServesNext(subject);
  });

  it("handleBatch returning a Proxy, a cyclic object or a `failed` getter that throws fails the batch readably", async () => {
    const subject = await sandboxFor(`${TRAPS}
      export default defineFunction({ name: "hostile", topics: ["in"], handleBatch(events) {
        const kind = events[0].text();
        if (kind === "ping") return;
        if (kind === "proxy") return booby;
        if (kind === "getter") return { get failed() { throw new TypeError("no list for you"); } };
        const cyclic = { failed: [] }; cyclic.failed.push(cyclic); cyclic.self = cyclic;
        return cyclic;
      } });`);
    expectFailure(await subject.invoke(["proxy", "x"]), undefined, /^Error: trap sprung/);
    expectFailure(await subject.invoke(["getter", "x"]), undefined, /^TypeError: no list for you/, 1);
    const cyclic = await subject.invoke(["cyclic", "x"]);
    expectFailure(cyclic, "EDDY_SANDBOX_INVALID_BATCH_RESULT", /failed\[0\]: expected one of this batch's events, got \{ failed: \[\[Circular\]\], self: \[Circular\] \}/);
    expect(statuses(await subject.invoke(["ping"]))).toEqual(["ok"]);
  });
});

describe("thrown values", () => {
  it.each([
    ["a Proxy whose traps throw", "throw booby;", /^Error: the function threw a value that cannot be read \(a Proxy or an object whose properties throw\)$/],
    ["an object whose name, message and stack getters throw", `throw { get name() { trap(); }, get message() { trap(); }, get stack() { trap(); } };`, /^Error: \{ name: \[unreadable\], message: \[unreadable\]/],
    ["a cyclic object", `const o = { message: "loop" }; o.self = o; throw o;`, /^Error: loop$/],
    ["a Symbol", `throw Symbol("sym");`, /^Error: Symbol\(sym\)$/],
    ["a BigInt", `throw 10n ** 20n;`, /^Error: 100000000000000000000n$/],
    ["undefined", `throw undefined;`, /^Error: undefined$/],
    ["an Error whose message getter throws", `const e = new Error("x"); Object.defineProperty(e, "message", { get: trap }); throw e;`, /^Error: <error: Error: trap sprung>/],
  ])("throwing %s fails the record with a readable error", async (_, statement, message) => {
    const subject = await sandboxFor(hostile(statement, TRAPS));
    const result = await subject.invoke(["throw"]);
    expectFailure(result, undefined, message);
    expect(JSON.parse(JSON.stringify(result.outcomes))).toEqual(result.outcomes);
    await expectServesNext(subject);
  });
});

describe("emitted values", () => {
  it.each([
    ["a cyclic object", `const o = {}; o.o = o; ctx.emit("out", o);`, /^TypeError: ctx\.emit: value: cannot be encoded as JSON: Converting circular structure/],
    ["a BigInt", `ctx.emit("out", { n: 1n });`, /^TypeError: ctx\.emit: value: cannot be encoded as JSON: Do not know how to serialize a BigInt/],
    ["a function", `ctx.emit("out", () => 1);`, /^TypeError: ctx\.emit: value: cannot be encoded as JSON, got \[Function/],
    ["a Symbol", `ctx.emit("out", Symbol("s"));`, /^TypeError: ctx\.emit: value: cannot be encoded as JSON, got Symbol\(s\)/],
    ["a Proxy whose traps throw", `ctx.emit("out", booby);`, /trap sprung/],
    ["headers that are a Proxy", `ctx.emit("out", "x", { headers: booby });`, /trap sprung/],
    ["a header getter that throws", `ctx.emit("out", "x", { headers: { get h() { trap(); } } });`, /trap sprung/],
    ["a key that is an object", `ctx.emit("out", "x", { key: { toString() { return "k"; } } });`, /^TypeError: ctx\.emit: options\.key: expected a string or null/],
  ])("emitting %s fails the record, even when the handler catches the error", async (_, statement, message) => {
    const subject = await sandboxFor(hostile(`try { ${statement} } catch (error) { ctx.log.warn("caught", String(error)); }`, TRAPS));
    const result = await subject.invoke(["emit"]);
    expectFailure(result, undefined, message);
    expect(result.emitted).toEqual([]);
    subject.logs.length = 0;
    await expectServesNext(subject);
  });

  it("a typed array subclass with lying accessors is copied as its real bytes", async () => {
    const subject = await sandboxFor(
      hostile(`
        class Liar extends Uint8Array { get length() { return 1e9; } get buffer() { throw new Error("no"); } }
        await ctx.emit("out", new Liar([1, 2, 3]));`),
    );
    const result = await subject.invoke(["liar"]);
    expect(statuses(result)).toEqual(["ok"]);
    expect(Array.from(result.emitted[0]!.value!)).toEqual([1, 2, 3]);
  });
});
