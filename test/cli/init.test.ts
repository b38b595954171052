import { spawn } from "node:child_process";
import { lstat, mkdir, readFile, readdir, realpath, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultEddySpec, functionNameFor } from "../../runtime/cli/init.js";
import { packageRoot } from "../../runtime/package-root.js";
import { runEddy, tempDir } from "../helpers/eddy-process.js";

const FILES = (name: string) => ["package.json", "tsconfig.json", `src/${name}.ts`, `test/${name}.test.mjs`, "README.md", ".gitignore"];

/** A command in the scaffolded project, with none of the npm_* variables of the npm that may be running vitest. */
function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_")));
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("eddy init", () => {
  const temps: string[] = [];
  const temp = async () => {
    const dir = await tempDir("eddy-init");
    temps.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("scaffolds a project that installs offline, passes its own tests, type-checks and deploys through its script", async () => {
    const dir = path.join(await temp(), "Order Emails");
    const init = await runEddy(["init", dir]);
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("created the function order-emails in");
    expect(init.stdout).toContain(`cd '${dir}' && npm install && npm test`);
    expect((await readdir(dir, { recursive: true })).filter((f) => !["src", "test"].includes(f)).sort()).toEqual(FILES("order-emails").sort());

    // Run from this checkout, the project depends on it as it is.
    const manifest = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
    expect(manifest).toMatchObject({ name: "order-emails", type: "module", dependencies: { eddy: `file:${packageRoot()}` } });
    expect(manifest.scripts).toEqual({ test: "node --no-node-snapshot --test", deploy: "eddy deploy src/order-emails.ts" });

    // A file: dependency is a symlink (npm's install-links=false): nothing to download. --ignore-scripts keeps
    // npm from running the checkout's `prepare` (a full build, ~20 s, under the feet of other processes):
    // `npm run build` ran before this test.
    const install = await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--install-links=false"], dir);
    expect(install.code, install.stderr).toBe(0);
    expect((await lstat(path.join(dir, "node_modules/eddy"))).isSymbolicLink()).toBe(true);
    expect(await realpath(path.join(dir, "node_modules/eddy"))).toBe(await realpath(packageRoot()));

    const test = await run("npm", ["test"], dir);
    expect(test.code, test.stdout + test.stderr).toBe(0);
    // Node 20 reports TAP when not on a terminal; later Nodes a spec list with "ℹ" lines.
    expect(test.stdout).toMatch(/^(# |ℹ )tests 2$/m);
    expect(test.stdout).toMatch(/^(# |ℹ )pass 2$/m);
    expect(test.stdout).toMatch(/^(# |ℹ )fail 0$/m);

    // Its tsconfig finds eddy/sdk's types through the package's exports, and the source passes strict mode.
    const tsc = await run(process.execPath, [path.join(packageRoot(), "node_modules/typescript/bin/tsc"), "-p", "."], dir);
    expect(tsc.code, tsc.stdout).toBe(0);

    // `npm run deploy` finds the eddy command in node_modules/.bin, bundles the function, and only then fails on the upload.
    const deploy = await run("npm", ["run", "deploy", "--", "--url", "http://127.0.0.1:1", "--token", "t"], dir);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain("Bundling src/order-emails.ts…");
    expect(deploy.stderr).toMatch(/Uploading [\d.]+ KB to http:\/\/127\.0\.0\.1:1/);
    expect(deploy.stderr).toContain("eddy: cannot reach Eddy at http://127.0.0.1:1");
  });

  it("the scaffold's tests fail when the function does not do what they say", async () => {
    // The same project with a handler that emits to the wrong topic: npm test must say so.
    const dir = path.join(await temp(), "broken");
    expect((await runEddy(["init", dir])).code).toBe(0);
    const source = path.join(dir, "src/broken.ts");
    await writeFile(source, (await readFile(source, "utf8")).replace('ctx.emit("emails"', 'ctx.emit("mails"'));
    expect((await run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], dir)).code).toBe(0);
    const test = await run("npm", ["test"], dir);
    expect(test.code).not.toBe(0);
    expect(test.stdout).toMatch(/^(# |ℹ )pass 1$/m);
    expect(test.stdout).toMatch(/^(# |ℹ )fail 1$/m);
  });

  it("prints { dir, name, files } with --json, and takes --name and --sdk", async () => {
    const dir = path.join(await temp(), "fn");
    const result = await runEddy(["init", dir, "--name", "order-totals", "--sdk", "^9.9.9", "--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ dir, name: "order-totals", files: FILES("order-totals") });
    const manifest = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
    expect(manifest.dependencies).toEqual({ eddy: "^9.9.9" });
    expect(await readFile(path.join(dir, "src/order-totals.ts"), "utf8")).toContain('name: "order-totals"');
  });

  it.each([
    ["a folder with a file in it", "not-empty", [], /^eddy: .*not-empty is not empty \(notes\.txt\): pass a new or empty folder to eddy init; nothing was written$/],
    ["a file", "a-file", [], /^eddy: .*a-file is a file, not a folder: pass a new or empty folder to eddy init$/],
    ["a bad --name", "new", ["--name", "Bad_Name"], /^eddy: --name: expected 1 to 63 characters from a-z, 0-9 and -, got 'Bad_Name'$/],
    ["an empty --sdk", "new", ["--sdk", ""], /^eddy: --sdk: expected an npm spec such as \^0\.1\.0 or file:\.\.\/eddy, got ''$/],
    ["a folder named without letters or digits", "---", [], /^eddy: cannot make a function name from '---': pass --name$/],
  ])("refuses %s with one line, exit code 1 and nothing written", async (_what, target, args, message) => {
    const parent = await temp();
    await mkdir(path.join(parent, "not-empty"));
    await writeFile(path.join(parent, "not-empty/notes.txt"), "mine");
    await writeFile(path.join(parent, "a-file"), "mine");
    const result = await runEddy(["init", path.join(parent, target), ...args]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect((await readdir(parent)).sort()).toEqual(["a-file", "not-empty"]);
    expect(await readdir(path.join(parent, "not-empty"))).toEqual(["notes.txt"]);
    expect(await readFile(path.join(parent, "a-file"), "utf8")).toBe("mine");
  });

  it.each([
    ["order-emails", "order-emails"],
    ["/home/ana/Order Emails", "order-emails"],
    ["my_fn.v2", "my-fn-v2"],
    ["-Hello--World-", "hello-world"],
    ["x".repeat(70), "x".repeat(63)],
    ["ünïcode", "n-code"],
  ])("names the function after the folder: %s → %s", (dir, name) => {
    expect(functionNameFor(dir)).toBe(name);
  });

  it("depends on ^<version> when eddy runs from a node_modules folder, on file:<checkout> otherwise", async () => {
    const installed = path.join(await temp(), "node_modules", "eddy");
    await mkdir(installed, { recursive: true });
    await writeFile(path.join(installed, "package.json"), JSON.stringify({ name: "eddy", version: "1.2.3" }));
    expect(defaultEddySpec(installed)).toBe("^1.2.3");
    expect(defaultEddySpec("/src/eddy")).toBe("file:/src/eddy");
  });
});
