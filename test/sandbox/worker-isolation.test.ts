// End to end through `eddy start` (the real binary from dist/, the shared test broker): hostile
// functions beside a well-behaved one, and a function that crashes its worker process outright.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, eventually, produce, testKafka } from "../helpers/kafka.js";

const PREFIX = "sbx.";

const steady = `
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "sbx-steady",
  topics: ["sbx-steady-in"],
  startFrom: "earliest",
  async handle(event, ctx) {
    await ctx.emit("sbx-steady-out", event.text().toUpperCase(), { key: event.key });
  },
});`;

const hostileSource = `
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "sbx-hostile",
  topics: ["sbx-hostile-in"],
  startFrom: "earliest",
  ordering: "key",
  timeoutMs: 3000,
  memoryMb: 16,
  egress: ["api.example.com"],
  retry: { maxAttempts: 2, backoff: { initialMs: 10, maxMs: 50 } },
  circuitBreaker: { consecutiveFailures: 1000 },
  async handle(event, ctx) {
    const kind = event.text();
    if (kind === "loop") while (true) {}
    if (kind === "hang") await new Promise(() => {});
    if (kind === "bomb") { const hoard = []; for (;;) hoard.push({ filler: [1, 2, 3, 4, 5, 6, 7, 8] }); }
    if (kind === "escape") globalThis.constructor.constructor("return process")().exit(1);
    if (kind === "registry") await ctx.emit("eddy.functions", { name: "sbx-steady", code: "evil" }, { key: "sbx-steady" });
    if (kind === "prefixed") await ctx.emit("${PREFIX}functions", { name: "sbx-steady", code: "evil" }, { key: "sbx-steady" });
    if (kind === "api") await ctx.fetch("http://127.0.0.1:" + ctx.env.API_PORT + "/v1/functions");
    if (kind === "flood") for (let i = 0; i < 100000; i++) console.log("flood", i);
    await ctx.emit("sbx-hostile-out", kind, { key: event.key });
  },
});`;

const crasherSource = `
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "sbx-crasher",
  topics: ["sbx-crash-in"],
  startFrom: "earliest",
  async handle(event, ctx) {
    const { id, crashUntil } = event.json();
    // One allocation far past the heap limit: V8 cannot recover the isolate, and isolated-vm's
    // advice is to end the process. It crashes while the record says so, then succeeds.
    if (Date.now() < crashUntil) new Array(2 ** 28).fill(1.5);
    await ctx.emit("sbx-crash-out", id, { key: event.key });
  },
});`;

const HOSTILE = ["loop", "hang", "bomb", "escape", "registry", "prefixed", "api"];

async function committedEqualsEnd(groupId: string, topic: string): Promise<boolean> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = (offsets?.partitions ?? []).reduce((sum, p) => sum + (p.offset === "-1" ? 0n : BigInt(p.offset)), 0n);
    return committed === ends.reduce((sum, e) => sum + BigInt(e.high), 0n);
  } finally {
    await admin.disconnect();
  }
}

const header = (message: { headers?: Record<string, unknown> }, name: string) => String(message.headers?.[name] ?? "");

describe("hostile functions under eddy start", () => {
  let eddy: EddyProcess;

  // A deploy right after its topics were created can meet a partition whose leader is not elected
  // yet (a 500 from the control plane); that is not what this suite tests, so it tries again.
  async function deploy(source: string, env: Record<string, string> = {}): Promise<void> {
    let deployed = await eddy.api("POST", "/v1/functions", { source, env });
    for (let tries = 1; deployed.status === 500 && tries < 5; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      deployed = await eddy.api("POST", "/v1/functions", { source, env });
    }
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
  }

  beforeAll(async () => {
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-sandbox-e2e"), EDDY_TOPIC_PREFIX: PREFIX });
    for (const source of [steady, hostileSource]) await deploy(source, { API_PORT: new URL(eddy.url).port });
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("a function that loops, hangs, bombs its heap, escapes, writes to the registry or calls Eddy's API fails only its own records, while its neighbour processes everything", async () => {
    const STEADY = 300;
    const steadyRecords = (from: number) => Array.from({ length: STEADY }, (_, i) => ({ key: `s-${from + i}`, value: `steady-${from + i}` }));
    const drained = () => eventually(() => committedEqualsEnd(`${PREFIX}sbx-steady`, "sbx-steady-in"), 90_000, 50);

    // Figures for the report, not assertions: the neighbour alone, then beside the hostile function.
    let started = performance.now();
    await produce("sbx-steady-in", steadyRecords(0));
    expect(await drained()).toBe(true);
    const aloneMs = performance.now() - started;

    started = performance.now();
    await produce(
      "sbx-hostile-in",
      HOSTILE.flatMap((kind, i) => [
        { key: `bad-${i}`, value: kind },
        { key: `good-${i}`, value: `good-${i}` },
      ]).concat([{ key: "flood", value: "flood" }]),
    );
    await produce("sbx-steady-in", steadyRecords(STEADY));
    expect(await drained()).toBe(true);
    const besideMs = performance.now() - started;
    console.log(`[sandbox e2e] sbx-steady: ${STEADY} records alone in ${Math.round(aloneMs)} ms, ${STEADY} beside the hostile function in ${Math.round(besideMs)} ms`);

    const outputs = await consumeAll("sbx-steady-out", 2 * STEADY, { timeoutMs: 90_000 });
    expect(new Set(outputs.map((m) => m.value!.toString())).size).toBe(2 * STEADY);
    for (let i = 0; i < 2 * STEADY; i += 1) expect(outputs.some((m) => m.key!.toString() === `s-${i}` && m.value!.toString() === `STEADY-${i}`)).toBe(true);

    // The hostile function's good records (and the log flood, which only loses lines) went through.
    const good = await consumeAll("sbx-hostile-out", HOSTILE.length + 1, { timeoutMs: 90_000 });
    expect(new Set(good.map((m) => m.value!.toString()))).toEqual(new Set([...HOSTILE.map((_, i) => `good-${i}`), "flood"]));

    // Each hostile record ends in the dead-letter topic with the reason, after its attempts.
    // At least once: a record may reach the dead-letter topic twice (a worker restarted before it committed).
    const dead = await consumeAll("sbx-hostile.dlt", HOSTILE.length, { timeoutMs: 120_000, distinctBy: (m) => m.value!.toString() });
    const reasons = Object.fromEntries(dead.map((m) => [m.value!.toString(), header(m, "eddy-dlt-error-message")]));
    expect(Object.keys(reasons).sort()).toEqual([...HOSTILE].sort());
    expect(reasons.loop).toMatch(/ran longer than timeoutMs \(3000 ms\)/);
    expect(reasons.hang).toMatch(/ran longer than timeoutMs \(3000 ms\)/);
    expect(reasons.bomb).toMatch(/ran out of memory \(memoryMb 16\)/);
    expect(reasons.escape).toMatch(/process is not defined/);
    expect(reasons.registry).toMatch(/topic "eddy\.functions" is Eddy's function registry/);
    expect(reasons.prefixed).toMatch(/topic "sbx\.functions" is Eddy's function registry/);
    expect(reasons.api).toMatch(/127\.0\.0\.1:\d+ is not in this function's egress \(egress allows api\.example\.com\)/);

    // The registry is as deployed: nothing the hostile function emitted reached it.
    const listed = await eddy.api("GET", "/v1/functions");
    expect(listed.body.functions.map((f: { name: string; version: number }) => [f.name, f.version]).sort()).toEqual([
      ["sbx-hostile", 1],
      ["sbx-steady", 1],
    ]);
    expect(await eventually(() => committedEqualsEnd(`${PREFIX}sbx-hostile`, "sbx-hostile-in"), 60_000)).toBe(true);
    expect(eddy.logs).toMatch(/log line\(s\) dropped: the function logged more than 1000 lines in one invocation/);
  });

  it("a deploy whose bundle is over the size limit gets 422 naming the limit, source or prebuilt", async () => {
    const huge = `import { defineFunction } from "eddy/sdk";\nconst blob = "${"x".repeat(5_600_000)}";\nexport default defineFunction({ name: "sbx-huge", topics: ["sbx-huge-in"], handle() { return blob.length; } });`;
    const fromSource = await eddy.api("POST", "/v1/functions", { source: huge });
    expect(fromSource.status).toBe(422);
    expect(fromSource.body.error.code).toBe("EDDY_BUNDLE_FAILED");
    expect(fromSource.body.error.message).toMatch(/the bundle is \d+ bytes \(5\.\d MiB\), over the limit of 5242880 bytes \(5\.0 MiB, maxBundleBytes\)/);
    const prebuilt = await eddy.api("POST", "/v1/functions", { bundle: `var __eddyModule = (() => ({ default: {} }))(); // ${"x".repeat(5_300_000)}` });
    expect(prebuilt.status).toBe(422);
    expect(prebuilt.body.error.message).toMatch(/over the limit of 5242880 bytes/);
    expect((await eddy.api("GET", "/v1/functions/sbx-huge")).status).toBe(404);
  });

  it("a function that crashes its worker process (V8 out of memory) gets its worker restarted, and no record is lost", async () => {
    await deploy(crasherSource);
    const RECORDS = 20;
    const crashUntil = Date.now() + 3_000;
    await produce(
      "sbx-crash-in",
      Array.from({ length: RECORDS }, (_, i) => ({ key: `c-${i}`, value: JSON.stringify({ id: `c-${i}`, crashUntil: i === 5 ? crashUntil : 0 }) })),
    );
    await produce("sbx-steady-in", [{ key: "after-crash", value: "after-crash" }]);

    // At-least-once: records finished before the crash but not yet committed run again, so wait for distinct ones.
    const outputs = await consumeAll("sbx-crash-out", RECORDS, { timeoutMs: 110_000, distinctBy: (m) => m.value!.toString() });
    expect(new Set(outputs.map((m) => m.value!.toString()))).toEqual(new Set(Array.from({ length: RECORDS }, (_, i) => `c-${i}`)));
    expect(eddy.logs).toMatch(/"function":"sbx-crasher".*"signal":"SIGABRT".*worker exited; restarting it/);
    expect(eddy.logs).toMatch(/"message":"Catastrophic out-of-memory error","inFlight":\["sbx-crash-in\/\d+@\d+"/);
    expect(await eventually(() => committedEqualsEnd(`${PREFIX}sbx-crasher`, "sbx-crash-in"), 60_000)).toBe(true);
    // The neighbour went on meanwhile.
    const steadyOut = await consumeAll("sbx-steady-out", 601, { timeoutMs: 30_000 });
    expect(steadyOut.some((m) => m.value!.toString() === "AFTER-CRASH")).toBe(true);
    const status = await eddy.api("GET", "/v1/functions/sbx-crasher");
    // The status counts the crashes, and no restart waits any more.
    expect(status.body.replicas).toMatchObject({ ready: 1, nextRestartInMs: null });
    expect(status.body.replicas.restarts).toBeGreaterThanOrEqual(1);
  });
});
