import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { EddyError } from "../eddy-error.js";
import { packageRoot } from "../package-root.js";
import { bundleEntryFile } from "./bundler.js";
import { FunctionSandbox, type InvocationResult, type SandboxRecord } from "./function-sandbox.js";

const encoder = new TextEncoder();
const sandboxes: FunctionSandbox[] = [];

afterEach(() => {
  for (const sandbox of sandboxes.splice(0)) sandbox.dispose();
});

// Function files live under this checkout's node_modules, so that `zod` resolves as it would in a user's project.
const dir = mkdtemp(path.join(packageRoot(), "node_modules", ".eddy-schema-test-"));
afterAll(async () => rm(await dir, { recursive: true, force: true }));
let files = 0;

/** A sandbox around a module that imports zod and eddy/sdk, bundled as `eddy deploy` bundles a file. */
async function sandboxFor(body: string): Promise<FunctionSandbox> {
  const file = path.join(await dir, `fn-${files++}.ts`);
  await writeFile(file, `import { z } from "zod";\nimport { defineFunction } from "eddy/sdk";\n${body}`);
  const code = await bundleEntryFile(file);
  const sandbox = await FunctionSandbox.create({ code, memoryMb: 64, env: {}, function: { name: "typed", version: 1 }, onLog: () => undefined });
  sandboxes.push(sandbox);
  return sandbox;
}

const record = (value: string | null, offset: number, key: string | null = "k"): SandboxRecord => ({
  topic: "orders",
  partition: 1,
  offset: String(offset),
  timestamp: 0,
  key,
  value: value === null ? null : encoder.encode(value),
  headers: {},
});

const invoke = (sandbox: FunctionSandbox, records: SandboxRecord[]) => sandbox.invoke(records, { attempt: 1, timeoutMs: 2_000, stopOnFailure: false, order: "none" });
const failure = (result: InvocationResult, i: number) => (result.outcomes[i]?.status === "failed" ? (result.outcomes[i] as { error: { code?: string; message: string; retriable: boolean } }).error : undefined);
const emittedText = (result: InvocationResult) => result.emitted.map((e) => new TextDecoder().decode(e.value!));

describe("schema: records validated with a Standard Schema (zod) before the handler", () => {
  const typed = `export default defineFunction({
    name: "typed", topics: ["orders"],
    schema: { value: z.object({ id: z.string(), total: z.number().positive() }), key: z.string().startsWith("k") },
    async handle(event, ctx) { await ctx.emit("out", \`\${event.data.id}:\${event.data.total}\`); },
  });`;

  it("hands the validated value to the handler as event.data", async () => {
    const result = await invoke(await sandboxFor(typed), [record('{"id":"a","total":3}', 0)]);
    expect(result.outcomes).toEqual([{ status: "ok" }]);
    expect(emittedText(result)).toEqual(["a:3"]);
  });

  it("fails a record that does not match, not retried, naming each issue with its path; the others run", async () => {
    const result = await invoke(await sandboxFor(typed), [
      record('{"id":"a","total":-1}', 0),
      record('{"total":"x"}', 1),
      record("not json", 2),
      record('{"id":"b","total":1}', 3, "wrong"),
      record('{"id":"c","total":2}', 4),
    ]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["failed", "failed", "failed", "failed", "ok"]);
    for (const i of [0, 1, 2, 3]) expect(failure(result, i)).toMatchObject({ code: "EDDY_SANDBOX_SCHEMA_INVALID", retriable: false });
    expect(failure(result, 0)!.message).toMatch(/^schema: orders\/1@0 does not match: value\.total: .*>0/);
    expect(failure(result, 1)!.message).toContain("value.id: ");
    expect(failure(result, 1)!.message).toContain("; value.total: ");
    expect(failure(result, 2)!.message).toContain("value: not JSON");
    expect(failure(result, 3)!.message).toContain("key: ");
    expect(emittedText(result)).toEqual(["c:2"]);
  });

  it("gives handleBatch only the records that match, and maps its failed list back to them", async () => {
    const sandbox = await sandboxFor(`export default defineFunction({
      name: "typed", topics: ["orders"],
      schema: { value: z.object({ n: z.number() }) },
      async handleBatch(events) { return { failed: events.filter((e) => e.data.n === 13) }; },
    });`);
    const result = await invoke(sandbox, [record('{"n":1}', 0), record('{"n":"no"}', 1), record('{"n":13}', 2), record('{"n":2}', 3)]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "failed", "failed", "ok"]);
    expect(failure(result, 1)!.code).toBe("EDDY_SANDBOX_SCHEMA_INVALID");
    expect(failure(result, 2)!.message).toContain("handleBatch returned this record");
  });

  it("refuses to load a schema that is not a validator, naming the field", async () => {
    const error = await sandboxFor(`export default defineFunction({ name: "typed", topics: ["orders"], schema: { value: { id: "string" } }, async handle() {} });`).catch((e: unknown) => e);
    expect((error as EddyError).code).toBe("EDDY_SANDBOX_INVALID_FUNCTION");
    expect((error as EddyError).message).toContain("schema.value: expected a Standard Schema validator");
  });

  it("leaves the schema out of the configuration the control plane sees", async () => {
    const sandbox = await sandboxFor(typed);
    expect(sandbox.describe().config).toEqual({});
  });
});
