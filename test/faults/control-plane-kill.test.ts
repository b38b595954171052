import { readdir, readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { testKafka } from "../helpers/kafka.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, ONE_REPLICA, produceMessages, sleep, stopEddy, tally, unique, workerPids } from "../dispatcher/support.js";

/**
 * When the kill lands, in ms after the deploy requests went out: before the bundle, while bundling and
 * inspecting, while topics and the consumer group are prepared and the registry written, and while the
 * supervisor replaces the workers (A's deploy first; B's, queued behind it, later: it creates topics and
 * pins a new group, a second or more). Where each lands depends on the machine; the outcomes are printed.
 * "answered": right after both deploys answered, while the supervisor starts B's worker.
 */
const KILL_AFTER_MS: (number | "answered")[] = [0, 50, 150, 300, 400, 500, 700, 1_000, 1_500, 2_500, 4_000, "answered"];
/** Records of A produced in each phase of a round: during the deploy, while the control plane is down, after the restart. */
const DURING = 600;
const WHILE_DOWN = 100;
const AFTER = 100;
/** How long the killed control plane's workers get to drain and exit: one invocation (timeoutMs 5 s) and leaving the group. */
const EXIT_LIMIT_MS = 20_000;

interface Output {
  k: string;
  v: number;
  code: string;
}

/** A's code at a given mark: it emits the version it runs as (ctx.function) and which code it is. */
function sourceA(name: string, topic: string, out: string, mark: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  timeoutMs: 5000,
  async handle(event, ctx) {
    // A little work per record, so that the worker holds records in flight when the control plane dies.
    await new Promise((resolve) => setTimeout(resolve, 4));
    await ctx.emit(${JSON.stringify(out)}, { k: event.key, v: ctx.function.version, code: ${JSON.stringify(mark)} }, { key: event.key });
  },
});`;
}

/** A function new in the round; its topic is created by the deploy itself. */
function sourceB(name: string, topic: string, out: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  timeoutMs: 5000,
  async handle(event, ctx) {
    await ctx.emit(${JSON.stringify(out)}, { k: event.key, v: ctx.function.version, code: ${JSON.stringify(name)} }, { key: event.key });
  },
});`;
}

/** Every process, at any depth, started by an Eddy with this topic prefix (forked children inherit its environment). */
async function processesOf(prefix: string): Promise<number[]> {
  const marker = `\0EDDY_TOPIC_PREFIX=${prefix}.\0`;
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, "latin1").catch(() => "");
    if (`\0${environ}`.includes(marker)) found.push(Number(entry));
  }
  return found;
}

/** Whether a process still runs (a zombie, exited but not yet reaped by whoever adopted it, does not). */
async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "latin1").catch(() => null);
  return stat !== null && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

async function topics(): Promise<Set<string>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return new Set(await admin.listTopics());
  } finally {
    await admin.disconnect();
  }
}

/** Members of a consumer group (none when it is empty or gone), as "clientId memberId". */
async function groupMembers(groupId: string): Promise<string[]> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return (groups[0]?.members ?? []).map((m) => `${m.clientId} ${m.memberId} (state ${groups[0]!.state})`);
  } finally {
    await admin.disconnect();
  }
}

/** LiveReader.start, retried: right after a topic is created the broker may not host it yet for the reader's metadata request. */
async function startReader(topic: string, partitions: number): Promise<LiveReader> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await LiveReader.start(topic, partitions);
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(300 * attempt);
    }
  }
}

type Answer = { status: number; version?: number } | { error: string };

/** Sends a deploy without waiting; the answer is whatever came back before the kill (or the connection's failure). */
function deployInBackground(eddy: EddyProcess, source: string): Promise<Answer> {
  return eddy.api("POST", "/v1/functions", { source, config: ONE_REPLICA }).then(
    (r) => ({ status: r.status, version: r.body?.version as number | undefined }),
    (error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }),
  );
}

describe("kill -9 of the control plane during a deploy", () => {
  const prefix = unique("fault-cpkill");
  const groupOf = (fn: string) => `${prefix}.${fn}`;
  const a = unique("cpk-a");
  const [inA, outA, outB] = [unique("cpk-a-in"), unique("cpk-a-out"), unique("cpk-b-out")];
  let env: Record<string, string>;
  let eddy: EddyProcess | undefined;
  let readerA: LiveReader;
  let readerB: LiveReader;
  /** Every key produced to A's topic, and A's code by version (the mark its source was deployed with). */
  const producedA: string[] = [];
  const codeOf = new Map<number, string>();

  beforeAll(async () => {
    env = { EDDY_DATA_DIR: await tempDir(`eddy-${prefix}`), EDDY_TOPIC_PREFIX: `${prefix}.` };
    await ensureTopic(inA, 3);
    readerA = await startReader(outA, 3);
    readerB = await startReader(outB, 1);
    eddy = await EddyProcess.start(env);
    expect(await deploy(eddy, sourceA(a, inA, outA, "m0"))).toBe(1);
    codeOf.set(1, "m0");
    expect(await eventually(async () => (await functionStatus(eddy!, a)).replicas?.ready === 1, 30_000)).toBe(true);
    // A processes records before any kill.
    const first = Array.from({ length: 100 }, (_, i) => ({ key: `first-${i}`, value: String(i), partition: i % 3 }));
    await produceMessages(inA, first);
    producedA.push(...first.map((m) => m.key));
    await readerA.waitFor(100, 30_000);
  });

  afterAll(async () => {
    await stopEddy(eddy, prefix);
    await readerA?.stop();
    await readerB?.stop();
  });

  it("leaves the registry with each deploy either whole or absent, and brings the workers back, losing no record", async () => {
    const outcomes: string[] = [];
    const seen = new Set<string>();
    /** The Bs stored so far, which every later restart must bring back too. */
    const storedB: string[] = [];
    for (const [round, killAfterMs] of KILL_AFTER_MS.entries()) {
      const before = eddy!;
      const versionBefore = (await before.api("GET", `/v1/functions/${a}`)).body.version as number;
      const b = unique(`cpk-b${round}`);
      const inB = unique(`cpk-b${round}-in`);
      const mark = `m${round + 1}`;

      // A is busy with records while its new version and a new function B are deployed; then kill -9.
      const during = Array.from({ length: DURING }, (_, i) => ({ key: `r${round}-during-${i}`, value: String(i), partition: i % 3 }));
      await produceMessages(inA, during);
      producedA.push(...during.map((m) => m.key));
      // The workers running now (A's); forked ones the kill finds (the standby worker, the new version's, the inspect child) are found by their environment below.
      const children = await workerPids(before);
      expect(children.length, `round ${round}: A's worker before the deploy`).toBeGreaterThanOrEqual(1);
      const sentAt = Date.now();
      const answerA = deployInBackground(before, sourceA(a, inA, outA, mark));
      const answerB = deployInBackground(before, sourceB(b, inB, outB));
      if (killAfterMs === "answered") await Promise.all([answerA, answerB]);
      else if (killAfterMs > 0) await sleep(killAfterMs);
      const killed = new Promise((resolve) => before.child.once("exit", resolve));
      process.kill(before.child.pid!, "SIGKILL");
      eddy = undefined;
      const killedAt = Date.now() - sentAt;
      await killed;
      const [gotA, gotB] = await Promise.all([answerA, answerB]);
      if (process.env.EDDY_TEST_LOGS) await writeFile(`${process.env.EDDY_TEST_LOGS}/${prefix}-round${round}.log`, before.logs);

      // The killed control plane's processes (workers, the standby worker, the inspect child) all exit on their own.
      const gone = await eventually(async () => (await processesOf(prefix)).length === 0, EXIT_LIMIT_MS, 100);
      expect(gone, `round ${round}: processes left after the kill: ${(await processesOf(prefix)).join(", ")}`).toBe(true);
      for (const pid of children) expect(await running(pid), `round ${round}: worker ${pid} of the killed control plane`).toBe(false);
      // They left their groups as they went (A's and earlier Bs'): no member waits out its session.
      for (const fn of [a, ...storedB]) expect(await groupMembers(groupOf(fn)), `round ${round}: members left in ${groupOf(fn)}`).toEqual([]);

      // Records that arrive while nothing runs.
      const down = Array.from({ length: WHILE_DOWN }, (_, i) => ({ key: `r${round}-down-${i}`, value: String(i), partition: i % 3 }));
      await produceMessages(inA, down);
      producedA.push(...down.map((m) => m.key));

      const after = await EddyProcess.start(env);
      eddy = after;

      // The registry: A at the old version or the new one, B whole or absent; never a half of either.
      const listed = (await after.api("GET", "/v1/functions")).body.functions as { name: string; version: number }[];
      const presentB = listed.some((f) => f.name === b);
      expect(listed.map((f) => f.name).sort(), `round ${round}: functions`).toEqual([a, ...storedB, ...(presentB ? [b] : [])].sort());
      const versionA = listed.find((f) => f.name === a)!.version;
      expect([versionBefore, versionBefore + 1], `round ${round}: A's version`).toContain(versionA);
      if ("status" in gotA) {
        // An answered deploy is stored (SPEC §6: it answers only after the write is acknowledged).
        expect(gotA.status, `round ${round}: A's deploy answer`).toBe(201);
        expect(versionA).toBe(gotA.version);
      }
      if (versionA === versionBefore + 1) codeOf.set(versionA, mark);
      const historyA = (await after.api("GET", `/v1/functions/${a}/versions`)).body as { current: number; versions: { version: number; current: boolean }[] };
      expect(historyA.current).toBe(versionA);
      // Versions only ever grow by one, none lost and none written without its pointer.
      expect(historyA.versions.map((v) => v.version)).toEqual(Array.from({ length: versionA }, (_, i) => i + 1));
      expect(historyA.versions.filter((v) => v.current).map((v) => v.version)).toEqual([versionA]);

      if ("status" in gotB) {
        expect(gotB.status, `round ${round}: B's deploy answer`).toBe(201);
        expect(presentB, `round ${round}: B was answered 201, so it must be stored`).toBe(true);
      }
      const existing = await topics();
      // What a stored function needs exists: its topics and its dead-letter topic.
      expect(existing.has(inA) && existing.has(`${a}.dlt`)).toBe(true);
      // Records produced to B now, right after the restart, are B's to process when it is stored (its group was pinned before the write).
      const toB = Array.from({ length: 10 }, (_, i) => ({ key: `r${round}-b-${i}`, value: String(i), partition: 0 }));
      if (presentB) {
        expect(existing.has(inB) && existing.has(`${b}.dlt`), `round ${round}: B's topics`).toBe(true);
        const historyB = (await after.api("GET", `/v1/functions/${b}/versions`)).body as { current: number; versions: { version: number }[] };
        expect(historyB.current).toBe(1);
        expect(historyB.versions.map((v) => v.version)).toEqual([1]);
        await produceMessages(inB, toB);
      } else {
        expect((await after.api("GET", `/v1/functions/${b}`)).status, `round ${round}: B absent`).toBe(404);
        expect((await after.api("GET", `/v1/functions/${b}/versions`)).status).toBe(404);
      }

      if (presentB) storedB.push(b);

      // The workers came back: one replica of every stored function (A, and the Bs of this and earlier rounds), and no other worker process.
      const ready = async (fn: string) => (await functionStatus(after, fn)).replicas?.ready === 1;
      for (const fn of [a, ...storedB]) expect(await eventually(() => ready(fn), 30_000), `round ${round}: ${fn} ready`).toBe(true);
      expect(await eventually(async () => (await workerPids(after)).length === 1 + storedB.length, 10_000), `round ${round}: worker processes`).toBe(true);

      // What runs is the version the registry names, with that version's code.
      const post = Array.from({ length: AFTER }, (_, i) => ({ key: `r${round}-after-${i}`, value: String(i), partition: i % 3 }));
      await produceMessages(inA, post);
      producedA.push(...post.map((m) => m.key));
      const outputsOf = (keys: string[]) => {
        const wanted = new Set(keys);
        return readerA.json<Output>().filter((o) => wanted.has(o.k));
      };
      const distinctOut = (keys: string[]) => new Set(outputsOf(keys).map((o) => o.k)).size;
      const afterRestart = [...down, ...post].map((m) => m.key);
      expect(await eventually(async () => distinctOut(afterRestart) === afterRestart.length, 30_000, 100), `round ${round}: A's records after the restart`).toBe(true);
      for (const output of outputsOf(afterRestart)) {
        // A duplicate of a record committed by the killed workers may come from the old version; everything run after the restart is the current one.
        expect(output, `round ${round}: ${output.k}`).toMatchObject({ v: versionA, code: codeOf.get(versionA) });
      }
      if (presentB) {
        const fromB = () => readerB.json<Output>().filter((o) => o.k.startsWith(`r${round}-b-`));
        expect(await eventually(async () => new Set(fromB().map((o) => o.k)).size === toB.length, 30_000, 100), `round ${round}: B's records`).toBe(true);
        for (const output of fromB()) expect(output).toMatchObject({ v: 1, code: b });
      }

      const state = `A v${versionA}${versionA === versionBefore ? " (deploy not stored)" : " (stored)"}, B ${presentB ? "stored and running" : "absent"}`;
      const answers = `answers A=${"status" in gotA ? gotA.status : "none"} B=${"status" in gotB ? gotB.status : "none"}`;
      seen.add(`A ${versionA === versionBefore ? "absent" : "stored"}`).add(`B ${presentB ? "stored" : "absent"}`);
      const when = killAfterMs === "answered" ? "once both deploys answered" : `at ${killAfterMs} ms`;
      outcomes.push(`kill ${when} (sent ${killedAt} ms after the requests): ${state}; ${answers}`);
      console.log(`round ${round}: ${outcomes.at(-1)}`);
    }

    // Nothing lost across all rounds: every record produced to A's topic came out, at least once.
    await eventually(async () => new Set(readerA.json<Output>().map((o) => o.k)).size >= producedA.length, 30_000, 100);
    const keys = readerA.json<Output>().map((o) => o.k);
    const { distinct, duplicates } = tally(keys);
    expect(new Set(keys)).toEqual(new Set(producedA));
    expect(distinct).toBe(producedA.length);
    // Not vacuous: the kills caught a deploy before its write (the first, at 0 ms) and B whole (the last).
    expect([...seen].sort()).toEqual(["A absent", "A stored", "B absent", "B stored"]);
    console.log(`control-plane kill: ${outcomes.join("\n  ")}\nA: ${producedA.length} produced, ${distinct} processed, ${duplicates} duplicates, 0 lost`);
  }, 240_000);
});

describe("a worker whose control plane is killed while it joins its group", () => {
  const prefix = unique("fault-cpjoin");
  const [name, topic] = [unique("cpj"), unique("cpj-in")];
  const groupId = `${prefix}.${name}`;

  it("leaves the group as it exits, so no member of it waits out a session", async () => {
    await ensureTopic(topic, 3);
    // A member already in the function's group that rejoins only at its next heartbeat (every 8 s): the
    // worker's JoinGroup waits that long, so the kill lands while the join is in flight.
    const other = testKafka().consumer({ groupId, sessionTimeout: 30_000, rebalanceTimeout: 30_000, heartbeatInterval: 8_000 });
    await other.connect();
    await other.subscribe({ topics: [topic] });
    await other.run({ eachBatch: async () => undefined });
    const eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir(`eddy-${prefix}`), EDDY_TOPIC_PREFIX: `${prefix}.` });
    try {
      const answer = await eddy.api("POST", "/v1/functions", { source: sourceB(name, topic, topic), config: ONE_REPLICA });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      // The worker boots and sends its JoinGroup (about a second); it cannot be ready before the other member rejoins.
      expect(await eventually(async () => (await workerPids(eddy)).length === 1, 10_000, 50)).toBe(true);
      await sleep(1_500);
      expect((await functionStatus(eddy, name)).replicas.ready, "the worker still joins").toBe(0);
      const killed = new Promise((resolve) => eddy.child.once("exit", resolve));
      process.kill(eddy.child.pid!, "SIGKILL");
      await killed;
      expect(await eventually(async () => (await processesOf(prefix)).length === 0, EXIT_LIMIT_MS, 100), "the worker exits").toBe(true);

      // The first stable generation after the worker is gone holds the other member alone. A worker that
      // exited without leaving would still be in it (its JoinGroup counted), until its session of 10 s ran out.
      const admin = testKafka().admin();
      await admin.connect();
      try {
        let members = -1;
        expect(
          await eventually(
            async () => {
              const [group] = (await admin.describeGroups([groupId])).groups;
              members = group?.state === "Stable" ? group.members.length : -1;
              return members >= 0;
            },
            30_000,
            50,
          ),
        ).toBe(true);
        expect(members, "members of the first stable generation").toBe(1);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await other.disconnect();
      if (eddy.child.exitCode === null && eddy.child.signalCode === null) await eddy.stop();
    }
  }, 90_000);
});
