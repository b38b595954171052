import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../package-root.js";
import { testFunction } from "./test-function.js";

// Function files under this checkout's node_modules resolve `eddy/sdk` and packages as in a user's project.
const dir = mkdtemp(path.join(packageRoot(), "node_modules", ".eddy-testing-test-"));
afterAll(async () => rm(await dir, { recursive: true, force: true }));
let files = 0;

async function functionFile(body: string): Promise<string> {
  const file = path.join(await dir, `fn-${files++}.ts`);
  await writeFile(file, `import { defineFunction, NonRetriableError } from "eddy/sdk";\n${body}`);
  return file;
}

describe("testFunction", () => {
  it("answers ctx.fetch with the test's fetch, and denies what egress does not allow as production does", async () => {
    const file = await functionFile(`export default defineFunction({
      name: "pricer", topics: ["orders"], egress: ["prices.example.com"],
      async handle(event, ctx) {
        const res = await ctx.fetch("https://prices.example.com/sku/" + event.key, { method: "POST", body: "q=1" });
        const { price } = await res.json();
        await ctx.emit("priced", { sku: event.key, price, attempt: ctx.attempt, env: ctx.env.REGION });
        if (event.json().alsoElsewhere) await ctx.fetch("https://elsewhere.example.com/");
      },
    });`);
    const seen: string[] = [];
    const fn = await testFunction(file, {
      env: { REGION: "eu" },
      fetch: async (request) => {
        seen.push(`${request.method} ${request.url} ${await request.text()}`);
        return Response.json({ price: 42 });
      },
    });
    const result = await fn.invoke([{ key: "apple", value: {} }, { key: "pear", value: { alsoElsewhere: true } }], { attempt: 2 });
    expect(seen).toEqual(["POST https://prices.example.com/sku/apple q=1", "POST https://prices.example.com/sku/pear q=1"]);
    expect(result.outcomes[0]).toEqual({ status: "ok" });
    expect(result.outcomes[1]).toMatchObject({ status: "failed", error: { code: "EDDY_SANDBOX_EGRESS_DENIED" } });
    expect(result.emitted.map((e) => e.data)).toEqual([{ sku: "apple", price: 42, attempt: 2, env: "eu" }]);
    fn.dispose();
  });

  it("fails ctx.fetch with a clear message when the test gave no fetch (no network in a test)", async () => {
    const file = await functionFile(`export default defineFunction({ name: "caller", topics: ["t"], egress: ["api.example.com"],
      async handle(event, ctx) { await ctx.fetch("https://api.example.com/x"); } });`);
    const fn = await testFunction(file);
    const result = await fn.invoke([{ key: "k", value: "v" }]);
    expect(result.outcomes[0]).toMatchObject({ status: "failed", error: { code: "EDDY_SANDBOX_FETCH_FAILED" } });
    expect((result.outcomes[0] as { error: { message: string } }).error.message).toContain("no network in a test");
    fn.dispose();
  });

  it("keeps logs, and runs handleBatch once over the records", async () => {
    const file = await functionFile(`export default defineFunction({ name: "bulk", topics: ["t"],
      async handleBatch(events, ctx) { ctx.log.info("batch of", events.length); return { failed: events.filter((e) => e.text() === "bad") }; } });`);
    const fn = await testFunction(new URL(`file://${file}`));
    const result = await fn.invoke([{ value: "good" }, { value: "bad" }]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "failed"]);
    expect(result.logs).toEqual([{ level: "info", message: "batch of 2" }]);
    fn.dispose();
  });

  it("says to pass a path when a definition does not tell where it was written", async () => {
    await expect(testFunction({ name: "x", topics: ["t"], async handle() {} })).rejects.toThrow("pass the file's path instead");
  });

  it("works under node:test too, in a project that installed eddy", async () => {
    // A user's project: eddy in its node_modules (a link to this checkout), a function and a node:test file.
    const project = await mkdtemp(path.join(tmpdir(), "eddy-testing-project-"));
    await mkdir(path.join(project, "node_modules"));
    await symlink(packageRoot(), path.join(project, "node_modules", "eddy"), "dir");
    const fnFile = path.join(project, "upper.ts");
    await writeFile(fnFile, `import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "upper", topics: ["t"], async handle(event, ctx) { await ctx.emit("out", event.text().toUpperCase()); } });`);
    const testFile = path.join(project, "upper.test.mjs");
    await writeFile(
      testFile,
      `import { test } from "node:test";
import assert from "node:assert/strict";
import { testFunction } from "eddy/testing";
test("upper", async () => {
  const fn = await testFunction(${JSON.stringify(fnFile)});
  const { emitted } = await fn.invoke([{ value: "shout" }]);
  assert.equal(emitted[0].value, "SHOUT");
  fn.dispose();
});`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ["--no-node-snapshot", "--test", testFile], { cwd: project });
    await rm(project, { recursive: true, force: true });
    expect(stdout).toContain("# pass 1");
  });
});
