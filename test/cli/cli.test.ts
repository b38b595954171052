import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDDY_MAIN, EddyProcess, runEddy, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, eventually, produce } from "../helpers/kafka.js";

const FIXTURE = "test/cli/fixtures/cli-echo.ts";

describe("the eddy CLI against a running Eddy", () => {
  let eddy: EddyProcess;
  const eddyCli = (...args: string[]) => runEddy(args, eddy.env);
  /** Exit code 1 and one `eddy: …` line (after any progress, and with the bad fields under it), no stack. */
  const expectUserError = (result: { code: number | null; stderr: string }, text: string | RegExp) => {
    expect(result.code).toBe(1);
    const errorLines = result.stderr.split("\n").filter((line) => line.startsWith("eddy: "));
    expect(errorLines).toHaveLength(1);
    const error = result.stderr.slice(result.stderr.indexOf("eddy: "));
    expect(error).toMatch(typeof text === "string" ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : text);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  };

  beforeAll(async () => {
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-cli"), EDDY_TOPIC_PREFIX: "cli." });
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("deploys a file, with progress on stderr, and lists and shows it", async () => {
    const deployed = await eddyCli("deploy", FIXTURE);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toBe("deployed cli-echo v1 on cli-in\n");
    expect(deployed.stderr).toContain("Bundling");

    const ls = await eddyCli("ls");
    expect(ls.stdout).toMatch(/^cli-echo\tv1\tcli-in\t/);
    const lsJson = JSON.parse((await eddyCli("ls", "--json")).stdout);
    expect(lsJson).toMatchObject([{ name: "cli-echo", version: 1 }]);

    expect(await eventually(async () => JSON.parse((await eddyCli("get", "cli-echo", "--json")).stdout).state === "running")).toBe(true);
    const get = await eddyCli("get", "cli-echo");
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^cli-echo v1: running, replicas 1\/1, circuit closed/);
    expect(get.stdout).toMatch(/^scaler stable: [\d.]+\/s arriving, (per-replica rate not measured yet|[\d.]+\/s per replica)/m);
  });

  it("invokes as a dry run and exits 1 when the function fails", async () => {
    const ok = await eddyCli("invoke", "cli-echo", "--data", '"hi"', "--key", "k1");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("log info: got hi");
    expect(ok.stdout).toContain("emit cli-out key=k1: cli:hi");
    const json = JSON.parse((await eddyCli("invoke", "cli-echo", "--data", "{\"a\":1}", "--json")).stdout);
    expect(json).toMatchObject({ ok: true, emitted: [{ topic: "cli-out", value: 'cli:{"a":1}' }] });
    expectUserError(await eddyCli("invoke", "cli-echo", "--data", '"boom"'), "eddy: the function failed: NonRetriableError: boom refused");
    expectUserError(await eddyCli("invoke", "cli-echo", "--data", "not json"), "--data: expected JSON");
  });

  it("shows logs, and follows them", async () => {
    await produce("cli-in", [{ key: "a", value: "hello" }]);
    expect(await eventually(async () => (await eddyCli("logs", "cli-echo")).stdout.includes("got hello"))).toBe(true);
    const lines = (await eddyCli("logs", "cli-echo", "--json")).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.some((l: { message: string; source: string }) => l.message === "got hello" && l.source === "function")).toBe(true);

    const follower = spawn(process.execPath, ["--no-node-snapshot", EDDY_MAIN, "logs", "cli-echo", "-f", "-n", "1"], { env: { ...process.env, ...eddy.env } });
    let out = "";
    const sawLine = new Promise<void>((resolve) =>
      follower.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("got followed")) resolve();
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await produce("cli-in", [{ key: "b", value: "followed" }]);
    await Promise.race([sawLine, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    follower.kill("SIGINT");
    expect(out).toMatch(/INFO  got followed/);
  });

  it("replays, pauses and resumes, keeps versions and rolls back", async () => {
    const replay = await eddyCli("replay", "cli-echo", "--from", "earliest");
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/cli-in\[0\] → 0/);
    expect(replay.stdout).toContain("replaying cli-echo");
    expectUserError(await eddyCli("replay", "cli-echo", "--from", "last tuesday"), "--from: expected earliest, latest");
    expectUserError(await eddyCli("replay", "cli-echo", "--from", "cli-in:99=0"), /no such partition/);

    expect((await eddyCli("pause", "cli-echo")).stdout).toBe("cli-echo paused\n");
    expect(JSON.parse((await eddyCli("get", "cli-echo", "--json")).stdout).state).toBe("paused");
    expect((await eddyCli("resume", "cli-echo")).stdout).toBe("cli-echo resumed\n");

    const v2 = await eddyCli("deploy", FIXTURE, "--env", "SUFFIX=!");
    expect(v2.stdout).toBe("deployed cli-echo v2 on cli-in\n");
    const versions = await eddyCli("versions", "cli-echo");
    expect(versions.stdout).toMatch(/^ {2}v1\t.*\n\* v2\t/);
    expect((await eddyCli("rollback", "cli-echo", "1")).stdout).toBe("cli-echo is at v1\n");
    expectUserError(await eddyCli("rollback", "cli-echo", "9"), "eddy: cli-echo has no version 9");
  });

  it("redrives the dead-letter topic with progress", async () => {
    await produce("cli-in", [{ key: "x", value: "boom" }]);
    expect(await consumeAll("cli-echo.dlt", 1, { settleMs: 0 })).toHaveLength(1);
    const redrive = await eddyCli("redrive", "cli-echo");
    expect(redrive.code).toBe(0);
    expect(redrive.stderr).toContain("Redriving 1 record from cli-echo.dlt");
    expect(redrive.stdout).toBe("redrove 1 of 1: 0 succeeded, 1 dead-lettered again\n");
  });

  it("refuses to delete without --yes when not interactive, and deletes with it", async () => {
    expectUserError(await eddyCli("rm", "cli-echo"), "eddy: refusing to delete cli-echo without confirmation: pass --yes");
    expect((await eddyCli("get", "cli-echo")).code).toBe(0);
    const rm = await eddyCli("rm", "cli-echo", "--yes");
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe("deleted cli-echo\n");
    expectUserError(await eddyCli("get", "cli-echo"), "eddy: no function named 'cli-echo'");
  });

  it("exits 1 with one clear line on every kind of error", async () => {
    expectUserError(await runEddy(["ls"], { ...eddy.env, EDDY_API_TOKEN: "wrong" }), "eddy: missing or wrong API token");
    expectUserError(await runEddy(["ls", "--url", "http://127.0.0.1:1"], eddy.env), "eddy: cannot reach Eddy at http://127.0.0.1:1");
    expectUserError(await eddyCli("deploy", "test/cli/fixtures/missing.ts"), /no such file/);
    expectUserError(await eddyCli("deploy", FIXTURE, "--env", "NOEQUALS"), "eddy: --env: expected NAME=value, got NOEQUALS");
    const broken = await eddyCli("deploy", "test/cli/fixtures/broken.ts");
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.ts:7:\d+/);
    expectUserError(await eddyCli("get", "Not_A_Name"), "eddy: invalid function name");
  });

  it("runs one replica of a function with `eddy worker --function --replica`, beside Eddy's own", async () => {
    const fixture = await readFile(FIXTURE, "utf8");
    const code = fixture.replace('name: "cli-echo"', 'name: "cli-worker"').replace('topics: ["cli-in"]', 'topics: ["cli-w-in"]').replace('"cli-out"', '"cli-w-out"');
    expect((await eddy.api("POST", "/v1/functions", { source: code })).status).toBe(201);
    const worker = spawn(process.execPath, ["--no-node-snapshot", EDDY_MAIN, "worker", "--function", "cli-worker", "--replica", "3"], { env: { ...process.env, ...eddy.env } });
    let log = "";
    worker.stderr.on("data", (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once("exit", (code) => resolve(code)));
    expect(await eventually(async () => log.includes('"worker ready"'), 30_000)).toBe(true);
    // The replica index it was given (its transactional id under exactly-once) reached its worker.
    expect(log).toMatch(/"replica":3,"msg":"worker ready"/);
    // Two members of the group now share the partitions; every record is processed.
    await produce("cli-w-in", Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `w${i}` })));
    const out = await consumeAll("cli-w-out", 20, { settleMs: 1_000 });
    expect(new Set(out.map((m) => m.value!.toString())).size).toBe(20);
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});
