import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDDY_MAIN, freePort, tempDir, type EddyProcess } from "../helpers/eddy-process.js";
import { eventually, LiveReader, produceMessages, startEddy, stopEddy, unique } from "../dispatcher/support.js";

/** A function that emits `<version>:<text>` through a helper module, so that the helper is one of the watched imports. */
function functionSource(name: string, input: string, output: string, version: string): string {
  return `import { defineFunction } from "eddy/sdk";
import { shout } from "./helper.js";

export default defineFunction({
  name: "${name}",
  topics: ["${input}"],
  async handle(event, ctx) {
    ctx.log.info("got " + event.text());
    await ctx.emit("${output}", "${version}:" + shout(event.text()), { key: event.key });
  },
});
`;
}
const HELPER = `export function shout(text: string): string {\n  return text;\n}\n`;
const BROKEN_HELPER = `export function shout(text: string): string {\n  return text +;\n}\n`;

/** A long-running `eddy dev`: its output so far, and when each line came. */
class DevProcess {
  stdout = "";
  stderr = "";
  private readonly waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    const seen = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      this[stream] += chunk.toString();
      for (const wake of this.waiters.splice(0)) wake();
    };
    child.stdout!.on("data", seen("stdout"));
    child.stderr!.on("data", seen("stderr"));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  static spawn(args: string[], env: Record<string, string>): DevProcess {
    return new DevProcess(spawn(process.execPath, ["--no-node-snapshot", EDDY_MAIN, "dev", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** Resolves with the time (performance.now()) at which `pattern` first showed in the stream, from `from` on. */
  async waitFor(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs: number, from = 0): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this[stream].slice(from))) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${pattern} on ${stream} within ${timeoutMs} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr.slice(-4_000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return performance.now();
  }
}

describe("eddy dev", () => {
  let eddy: EddyProcess;
  let dir: string;
  const children: DevProcess[] = [];

  beforeAll(async () => {
    eddy = await startEddy("dev");
    dir = await tempDir("eddy-dev-fn");
  });
  afterAll(async () => {
    for (const dev of children) dev.child.kill("SIGKILL");
    await stopEddy(eddy, "dev");
  });

  it("deploys, produces the sample, redeploys each save within 2 s, survives a compile error and leaves the function deployed on Ctrl-C", async () => {
    const [name, input, output] = [unique("dev-fn"), unique("dev-in"), unique("dev-out")];
    const file = path.join(dir, "fn.ts");
    await writeFile(path.join(dir, "helper.ts"), HELPER);
    await writeFile(file, functionSource(name, input, output, "v1"));
    const samples = path.join(dir, "samples.jsonl");
    await writeFile(samples, `{"key":"a","value":"hello"}\n\n"world"\n`);
    const reader = await LiveReader.start(output);
    const valueOf = (text: string) => reader.messages.map((m) => m.value!.toString()).find((v) => v.endsWith(`:${text}`));

    const dev = DevProcess.spawn([file, "--produce", samples], eddy.env);
    children.push(dev);
    await dev.waitFor("stdout", new RegExp(`^deployed ${name} v1 on ${input}$`, "m"), 30_000);
    await dev.waitFor("stdout", /^produced 2 records to /m, 30_000);
    await reader.waitFor(2, 30_000);
    expect([valueOf("hello"), valueOf("world")]).toEqual(["v1:hello", "v1:world"]);
    // The tail: the function's own lines, and the records it processed.
    await dev.waitFor("stdout", /INFO {2}got world$/m, 10_000);
    await dev.waitFor("stdout", /OK {4}\d+ records? processed/, 10_000);

    const before = dev.stdout.length;
    const savedAt = performance.now();
    await writeFile(file, functionSource(name, input, output, "v2"));
    const redeployedAt = await dev.waitFor("stdout", new RegExp(`^deployed ${name} v2 on ${input}$`, "m"), 10_000, before);
    const saveToRedeployMs = redeployedAt - savedAt;
    process.stderr.write(`[eddy dev] save → "deployed ${name} v2": ${saveToRedeployMs.toFixed(0)} ms\n`);
    expect(saveToRedeployMs).toBeLessThan(2_000);
    await produceMessages(input, [{ key: "b", value: "again" }]);
    expect(await eventually(async () => valueOf("again") !== undefined, 30_000)).toBe(true);
    expect(valueOf("again")).toBe("v2:again");

    // A syntax error in an imported file: reported where it is, and v2 goes on running.
    await writeFile(path.join(dir, "helper.ts"), BROKEN_HELPER);
    await dev.waitFor("stderr", /^helper\.ts:2:\d+: /m, 10_000);
    expect(dev.stderr).toContain(`build failed (${name} v2 keeps running):`);
    await produceMessages(input, [{ key: "c", value: "still" }]);
    expect(await eventually(async () => valueOf("still") !== undefined, 30_000)).toBe(true);
    expect(valueOf("still")).toBe("v2:still");
    expect((await eddy.api("GET", `/v1/functions/${name}`)).body.version).toBe(2);
    expect(dev.stdout).not.toMatch(/deployed .* v3/);

    dev.child.kill("SIGINT");
    expect(await dev.exited).toBe(0);
    expect(dev.stdout).toContain(`${name} stays deployed; \`eddy rm ${name}\` removes it\n`);
    expect((await eddy.api("GET", `/v1/functions/${name}`)).status).toBe(200);
    await reader.stop();
  });

  it("removes the function on Ctrl-C with --rm", async () => {
    const [name, input, output] = [unique("dev-rm"), unique("dev-in"), unique("dev-out")];
    const rmDir = await tempDir("eddy-dev-rm");
    await writeFile(path.join(rmDir, "helper.ts"), HELPER);
    await writeFile(path.join(rmDir, "fn.ts"), functionSource(name, input, output, "v1"));
    const dev = DevProcess.spawn([path.join(rmDir, "fn.ts"), "--rm"], eddy.env);
    children.push(dev);
    await dev.waitFor("stdout", new RegExp(`^deployed ${name} v1 on ${input}$`, "m"), 30_000);
    dev.child.kill("SIGINT");
    expect(await dev.exited).toBe(0);
    expect(dev.stdout).toContain(`deleted ${name}\n`);
    expect((await eddy.api("GET", `/v1/functions/${name}`)).status).toBe(404);
  });

  it("runs its own Eddy when none answers, and stops it on Ctrl-C", async () => {
    const [name, input, output] = [unique("dev-own"), unique("dev-in"), unique("dev-out")];
    const ownDir = await tempDir("eddy-dev-own");
    await writeFile(path.join(ownDir, "helper.ts"), HELPER);
    await writeFile(path.join(ownDir, "fn.ts"), functionSource(name, input, output, "v1"));
    const port = await freePort();
    // The test broker (KAFKA_BROKERS, inherited), a port where nothing answers yet, and a token of its own making.
    const env = { EDDY_PORT: String(port), EDDY_DATA_DIR: path.join(ownDir, ".eddy"), EDDY_TOPIC_PREFIX: `${unique("dev-own")}.`, EDDY_API_TOKEN: "" };
    const dev = DevProcess.spawn([path.join(ownDir, "fn.ts")], env);
    children.push(dev);
    await dev.waitFor("stderr", new RegExp(`No Eddy answers at http://127\\.0\\.0\\.1:${port}: starting one in this process`), 10_000);
    await dev.waitFor("stdout", new RegExp(`^deployed ${name} v1 on ${input}$`, "m"), 60_000);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    dev.child.kill("SIGINT");
    expect(await dev.exited).toBe(0);
    expect(dev.stdout).toContain(`${name} stays deployed; \`eddy rm ${name}\` removes it\n`);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("says it cannot reach an Eddy at a --url it would not run itself", async () => {
    const dev = DevProcess.spawn([path.join(dir, "fn.ts"), "--url", `http://127.0.0.2:${await freePort()}`], eddy.env);
    children.push(dev);
    expect(await dev.exited).toBe(1);
    expect(dev.stderr).toMatch(/^eddy: cannot reach Eddy at http:\/\/127\.0\.0\.2:\d+/m);
  });
});
