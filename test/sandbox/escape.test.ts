// Attempts to reach past the isolate: Node's globals and modules, the host through constructors of
// what it handed in, the harness through the call stack, another function's secrets, and the
// host's objects through mutation and prototype pollution.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EddyError } from "../../runtime/eddy-error.js";
import { bundleFunction } from "../../runtime/sandbox/bundler.js";
import {
  besideNeighbour,
  disposeSandboxes,
  expectFailure,
  expectServesNext,
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

describe("Node's globals and modules do not exist", () => {
  it("process.exit fails the record with ReferenceError: process is not defined", async () => {
    const subject = await sandboxFor(hostile(`process.exit(1);`));
    expectFailure(await subject.invoke(["exit"]), undefined, /^ReferenceError: process is not defined/);
    await expectServesNext(subject);
  });

  it("a static import of a Node module is refused at deploy, naming file, line, column and why", async () => {
    const error = (await bundleFunction({ source: `import { execSync } from "node:child_process";\nexport default execSync;` }).catch((e: unknown) => e)) as EddyError;
    expect(error.code).toBe("EDDY_BUNDLE_FAILED");
    expect(error.message).toMatch(/function\.ts:1:\d+: Could not resolve "node:child_process": Node.js built-in modules do not exist inside functions/);
  });

  it("require of a computed name fails with 'Dynamic require … is not supported'", async () => {
    const subject = await sandboxFor(hostile(`const name = ["child", "process"].join("_"); require(name).execSync("id");`));
    expectFailure(await subject.invoke(["require"]), undefined, /^Error: Dynamic require of "child_process" is not supported/);
    await expectServesNext(subject);
  });

  it("import() of a computed name fails the same way; import() hidden in new Function is refused by V8", async () => {
    const subject = await sandboxFor(
      hostile(`
        if (event.text() === "bundled") { const name = "node:" + "fs"; await import(name); }
        await new Function("return import('node:fs')")();`),
    );
    const result = await subject.invoke(["bundled", "hidden"], { stopOnFailure: false });
    expectFailure(result, undefined, /^Error: Dynamic require of "node:fs" is not supported/, 0);
    expectFailure(result, undefined, /^Error: Not supported/, 1);
    await expectServesNext(subject);
  });

  it('globalThis.constructor.constructor("return process")() finds no process', async () => {
    const subject = await sandboxFor(hostile(`globalThis.constructor.constructor("return process")();`));
    expectFailure(await subject.invoke(["escape"]), undefined, /^ReferenceError: process is not defined/);
    await expectServesNext(subject);
  });

  it("the global scope holds exactly the SPEC §4 globals on top of standard JavaScript", async () => {
    const subject = await sandboxFor(hostile(`await ctx.emit("globals", Object.getOwnPropertyNames(globalThis).sort());`));
    const globals: string[] = firstJson(await subject.invoke(["list"]));
    const standard = [
      "AggregateError", "Array", "ArrayBuffer", "Atomics", "BigInt", "BigInt64Array", "BigUint64Array", "Boolean", "DataView", "Date",
      "Error", "EvalError", "FinalizationRegistry", "Float32Array", "Float64Array", "Function", "Infinity", "Int16Array", "Int32Array",
      "Int8Array", "Intl", "JSON", "Map", "Math", "NaN", "Number", "Object", "Promise", "Proxy", "RangeError", "ReferenceError", "Reflect",
      "RegExp", "Set", "SharedArrayBuffer", "String", "Symbol", "SyntaxError", "TypeError", "URIError", "Uint16Array", "Uint32Array",
      "Uint8Array", "Uint8ClampedArray", "WeakMap", "WeakRef", "WeakSet", "decodeURI", "decodeURIComponent", "encodeURI",
      "encodeURIComponent", "escape", "eval", "globalThis", "isFinite", "isNaN", "parseFloat", "parseInt", "undefined", "unescape",
    ];
    const eddy = [
      "TextDecoder", "TextEncoder", "URL", "URLSearchParams", "atob", "btoa", "clearInterval", "clearTimeout", "console", "crypto",
      "queueMicrotask", "setInterval", "setTimeout",
      // The function's own bundle (its module namespace).
      "__eddyModule",
    ];
    expect(globals).toEqual([...standard, ...eddy].sort());
  });
});

describe("nothing the host handed in leads back to the host", () => {
  it("constructors of events, ctx functions and platform errors are the isolate's own Function", async () => {
    const subject = await sandboxFor(
      hostile(`
        const reached = {
          value: event.value.constructor.constructor,
          headers: event.headers.constructor.constructor,
          json: event.json.constructor,
          emit: ctx.emit.constructor,
          fetch: ctx.fetch.constructor,
          log: ctx.log.info.constructor,
          console: console.log.constructor,
          timer: setTimeout.constructor,
          random: crypto.getRandomValues.constructor,
          url: new URL("http://x").constructor.constructor,
          platformError: await ctx.fetch("http://not-allowed.example").catch((e) => e.constructor.constructor),
        };
        const own = Object.entries(reached).filter(([, F]) => F !== Function).map(([name]) => name);
        const globals = Object.values(reached).map((F) => F("return typeof process + typeof require + typeof Buffer")());
        await ctx.emit("report", { own, globals: [...new Set(globals)] });
        ctx.emit.constructor("return process.env")();`),
    );
    const result = await subject.invoke(["climb"], { stopOnFailure: false });
    expectFailure(result, undefined, /^ReferenceError: process is not defined/);
    const probe = await sandboxFor(
      hostile(`
        const found = [event.value, event.headers, ctx, ctx.env, ctx.function, console].map((v) => v.constructor.constructor === Function);
        await ctx.emit("report", found);`),
    );
    expect(firstJson(await probe.invoke(["climb"]))).toEqual([true, true, true, true, true, true]);
    await expectServesNext(subject);
  });

  it("a sloppy-mode handler gets nothing of the harness from fn.caller or Error.prepareStackTrace call sites", async () => {
    const subject = await sandboxFor(
      hostile(
        `return sloppy(event, ctx, this.handle, this);`,
        `const sloppy = new Function("event", "ctx", "ownHandle", "definition", \`
          const callers = [];
          let fn = arguments.callee;
          try { while (fn && callers.length < 10) { fn = fn.caller; if (fn) callers.push(fn.name || "anonymous"); } } catch (e) { callers.push("threw " + e.name); }
          const leaked = [];
          Error.prepareStackTrace = (error, sites) => sites;
          const sites = new Error("probe").stack;
          Error.prepareStackTrace = undefined;
          for (const site of sites) {
            const f = site.getFunction(), self = site.getThis();
            // The function's own code (this function, its handle method and definition) is fair game.
            if (f !== undefined && f !== arguments.callee && f !== ownHandle) leaked.push("function " + (f.name || "anonymous"));
            if (self !== undefined && self !== globalThis && self !== definition) leaked.push("this of " + site.getFunctionName());
          }
          return ctx.emit("report", { callers, leaked });
        \`);`,
      ),
    );
    const { callers, leaked } = firstJson(await subject.invoke(["stack"]));
    // The chain stops at the handler: the harness that called it is strict, so its frames give nothing.
    expect(callers.filter((name: string) => name !== "handle" && !name.startsWith("threw"))).toEqual([]);
    expect(leaked).toEqual([]);
    await expectServesNext(subject);
  });

  it("another function's env is out of reach: ctx.env holds only the function's own variables", async () => {
    const subject = await sandboxFor(
      hostile(`
        const found = [];
        const scan = (value, path, depth) => {
          if (typeof value === "string" && value.includes("neighbour-secret")) found.push(path);
          if (depth === 0 || value === null || (typeof value !== "object" && typeof value !== "function")) return;
          for (const key of Object.getOwnPropertyNames(value)) {
            let child; try { child = value[key]; } catch { continue; }
            scan(child, path + "." + key, depth - 1);
          }
        };
        scan(globalThis, "globalThis", 3);
        scan(ctx, "ctx", 3);
        let viaProcess = "no process";
        try { viaProcess = new Function("return process.env.SECRET")(); } catch (e) { viaProcess = e.name; }
        await ctx.emit("report", { env: ctx.env, found, viaProcess });`),
      { env: { MINE: "own" } },
    );
    expect(firstJson(await subject.invoke(["snoop"]))).toEqual({ env: { MINE: "own" }, found: [], viaProcess: "ReferenceError" });
    await expectServesNext(subject);
  });

  it("mutating the event and ctx or polluting prototypes reaches neither the host, nor the neighbour, nor the next invocation's event and ctx", async () => {
    const subject = await sandboxFor(
      hostile(`
        if (event.text() === "look") {
          await ctx.emit("seen", { headers: event.headers, key: event.key, value: event.text(), env: ctx.env, frozen: Object.isFrozen(ctx) && Object.isFrozen(ctx.env) });
          return;
        }
        event.headers["x-test"] = "tampered"; event.headers.injected = "yes";
        event.value.fill(0x41);
        try { ctx.env.MINE = "tampered"; } catch {}
        try { ctx.emit = () => {}; } catch {}
        Object.prototype.polluted = "yes";
        Array.prototype.polluted = "yes";
        JSON.parse = () => ({ hijacked: true });`),
      { env: { MINE: "own" } },
    );
    const input = [record("original", 0), record("look", 1)];
    const snapshot = structuredClone(input);
    const { result } = await besideNeighbour(next, subject.sandbox.invoke(input.slice(0, 1), { attempt: 1, timeoutMs: 2_000 }));
    expect(statuses(result)).toEqual(["ok"]);
    expect(input).toEqual(snapshot);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse("1")).toBe(1);

    const look = await subject.sandbox.invoke(input.slice(1), { attempt: 1, timeoutMs: 2_000 });
    expect(look.emitted.map((e) => new TextDecoder().decode(e.value!))).toEqual([
      JSON.stringify({ headers: { "x-test": "yes" }, key: "k1", value: "look", env: { MINE: "own" }, frozen: true }),
    ]);
    expect(input).toEqual(snapshot);
  });

  it("a function that breaks the harness's own machinery only fails itself, and the reset isolate is clean", async () => {
    const subject = await sandboxFor(
      hostile(`
        if (event.text() === "check") { await ctx.emit("check", { sabotaged: typeof Map.prototype.sabotaged }); return; }
        Map.prototype.get = function () { return undefined; };
        Map.prototype.sabotaged = true;
        Promise.prototype.then = function () { return this; };`),
    );
    const { result } = await besideNeighbour(next, subject.invoke(["sabotage"], { timeoutMs: 300 }));
    expectFailure(result, "EDDY_SANDBOX_TIMEOUT", /ran longer than timeoutMs/);
    expect(firstJson(await subject.invoke(["check"]))).toEqual({ sabotaged: "undefined" });
    await expectServesNext(subject);
  });
});
