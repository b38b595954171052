import { describe, expect, it } from "vitest";
import type { EddyError } from "../eddy-error.js";
import { bundleFunction, type BundleInput } from "./bundler.js";

async function bundleError(input: BundleInput): Promise<EddyError> {
  const error = await bundleFunction(input).then(
    () => undefined,
    (e: unknown) => e as EddyError,
  );
  if (error === undefined) throw new Error("expected bundling to fail");
  return error;
}

/** Evaluates a bundle as the isolate does (a classic script leaving __eddyModule behind); the SDK needs no Node. */
function loadBundle(code: string): { default: Record<string, unknown> } {
  return new Function(`${code}\nreturn __eddyModule;`)() as { default: Record<string, unknown> };
}

describe("bundleFunction", () => {
  it("bundles a TypeScript source that imports eddy/sdk into one script", async () => {
    const code = await bundleFunction({
      source: `
        import { defineFunction, NonRetriableError } from "eddy/sdk";
        interface Order { id: string }
        export default defineFunction({
          name: "orders",
          topics: ["orders"],
          retry: { maxAttempts: 3 },
          handle(event) {
            const order = event.json<Order>();
            if (!order.id) throw new NonRetriableError("no id");
          },
        });`,
    });
    expect(code).not.toMatch(/^\s*import /m);
    const definition = loadBundle(code).default;
    expect(definition).toMatchObject({ name: "orders", topics: ["orders"], retry: { maxAttempts: 3 } });
    expect(typeof definition.handle).toBe("function");
  });

  it("bundles several files from memory, resolving .js specifiers to .ts files", async () => {
    const code = await bundleFunction({
      entry: "src/index.ts",
      files: {
        "src/index.ts": `import { topic } from "./lib/topics.js"; import data from "./data.json"; export default { name: data.name, topics: [topic], handle() {} };`,
        "src/lib/topics.ts": `export const topic: string = "events";`,
        "src/data.json": `{ "name": "multi" }`,
      },
    });
    expect(loadBundle(code).default).toMatchObject({ name: "multi", topics: ["events"] });
  });

  it("reports a syntax error with its file, line and column", async () => {
    const error = await bundleError({ source: `export default {\n  name: "x",\n  topics: [,"a"] +* 2,\n};\n` });
    expect(error.code).toBe("EDDY_BUNDLE_FAILED");
    expect(error.userError).toBe(true);
    expect(error.context.diagnostics).toEqual([{ file: "function.ts", line: 3, column: 19, message: expect.stringContaining('Unexpected "*"') }]);
    expect(error.message).toContain("function.ts:3:19: Unexpected");
  });

  it("names the file as given", async () => {
    const error = await bundleError({ source: "const = 1;", filename: "handlers/orders.ts" });
    expect(error.message).toMatch(/^handlers\/orders\.ts:1:7: /m);
  });

  it("lists every error, not only the first", async () => {
    const error = await bundleError({
      source: `import a from "./missing";\nimport b from "lodash";\nexport default [a, b];`,
    });
    expect(error.context.diagnostics).toHaveLength(2);
  });

  it.each([
    ["fs", /Could not resolve "fs": Node\.js built-in modules do not exist inside functions/],
    ["node:crypto", /Could not resolve "node:crypto": Node\.js built-in/],
    ["fs/promises", /Could not resolve "fs\/promises": Node\.js built-in/],
    ["left-pad", /Could not resolve "left-pad": .*bundle it with `eddy deploy`, which resolves local node_modules/],
    ["@scope/pkg/sub", /Could not resolve "@scope\/pkg\/sub": .*eddy deploy/],
  ])("fails on an import of %s, naming it and where it is", async (specifier, expected) => {
    const error = await bundleError({ source: `import thing from "${specifier}";\nexport default thing;` });
    expect(error.code).toBe("EDDY_BUNDLE_FAILED");
    expect(error.message).toMatch(expected);
    expect(error.message).toContain("function.ts:1:19: ");
  });

  it("fails on a require() of a package too", async () => {
    const error = await bundleError({ source: `const pad = require("left-pad");\nexport default pad;` });
    expect(error.message).toMatch(/function\.ts:1:21: Could not resolve "left-pad"/);
  });

  it("fails when the entry is not among the files, naming the field", async () => {
    const error = await bundleError({ files: { "a.ts": "export default 1;" }, entry: "b.ts" });
    expect(error.message).toContain('entry: "b.ts" is not one of the files (a.ts)');
  });

  it("refuses top-level await, which a classic script cannot run", async () => {
    const error = await bundleError({ source: "export default await Promise.resolve(1);" });
    expect(error.message).toMatch(/function\.ts:1:16: Top-level await/);
  });
});

describe("bundle size limit", () => {
  it("refuses a bundle over maxBundleBytes, naming its size, the limit and what to do", async () => {
    const error = (await bundleFunction({ source: `export default "${"x".repeat(3_000)}";` }, { maxBundleBytes: 2_000 }).catch((e: unknown) => e)) as EddyError;
    expect(error.code).toBe("EDDY_BUNDLE_FAILED");
    expect(error.userError).toBe(true);
    expect(error.message).toMatch(/function\.ts:1:1: the bundle is \d+ bytes \(\d\.\d KiB\), over the limit of 2000 bytes \(2\.0 KiB, maxBundleBytes\): keep large data out of the code/);
    expect(error.context).toMatchObject({ maxBundleBytes: 2_000, diagnostics: [{ file: "function.ts", line: 1, column: 1 }] });
  });

  it("applies the 5 MiB default to prebuilt bundles too", async () => {
    const { checkBundleSize } = await import("./bundler.js");
    expect(() => checkBundleSize("x".repeat(5 * 1024 * 1024 + 1), "bundle")).toThrow(/over the limit of 5242880 bytes \(5\.0 MiB, maxBundleBytes\)/);
    expect(() => checkBundleSize("x".repeat(5 * 1024 * 1024), "bundle")).not.toThrow();
  });
});
