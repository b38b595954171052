import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { committedOffsets, ensureTopic, LiveReader, produceMessages, startEddy, stopEddy, tally, unique, waitReady, workerPids } from "../dispatcher/support.js";
import { cpuBound, deployWith, FAST_SCALING, watchStatus } from "./support.js";

const PARTITIONS = 6;
const RECORDS = 6_000;

interface Output {
  p: number;
  o: number;
  k: string;
}

const burst = () => Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: String(i), partition: i % PARTITIONS }));

/** Every partition's committed offset reached its end: the group consumed all of them. */
async function expectAllCommitted(group: string, topic: string): Promise<void> {
  const committed = await committedOffsets(group, topic);
  expect([...committed.entries()].sort(([a], [b]) => a - b)).toEqual(Array.from({ length: PARTITIONS }, (_, p) => [p, BigInt(RECORDS / PARTITIONS)]));
}

describe("the scaler under a burst, on the real broker", () => {
  const prefix = unique("scale-burst");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("adds replicas while lag is high, processes all 6,000 records on all 6 partitions, then falls back to zero", async () => {
    const [name, topic, out] = [unique("burst"), unique("burst-in"), unique("burst-out")];
    await ensureTopic(topic, PARTITIONS);
    const reader = await LiveReader.start(out, PARTITIONS);
    await deployWith(eddy, cpuBound(name, topic, out, { cpuMs: 2 }), { scaling: FAST_SCALING });
    await waitReady(eddy, name);

    const started = Date.now();
    await produceMessages(topic, burst());
    const during = await watchStatus(eddy, name, (s) => s.lag.total === 0 && reader.count >= RECORDS, 120_000);
    const drainedInMs = Date.now() - started;
    const highLag = during.filter((s) => s.lag.total >= 1_000);
    const mostReady = Math.max(...highLag.map((s) => s.replicas.ready));
    console.log(`scaler burst: ${RECORDS} records drained in ${drainedInMs} ms; ready replicas while lag ≥ 1,000 peaked at ${mostReady}`);
    expect(mostReady, "ready replicas while lag was high").toBeGreaterThanOrEqual(2);
    expect(during.at(-1)!.scaler.decisions).toBeGreaterThanOrEqual(1);

    await reader.waitFor(RECORDS, 60_000, 1_000);
    const outputs = reader.json<Output>();
    const { distinct } = tally(outputs.map((o) => o.k));
    expect(distinct).toBe(RECORDS);
    expect(new Set(outputs.map((o) => o.p))).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    await expectAllCommitted(`${prefix}.${name}`, topic);

    // Down after the stable window, at most halving per step, then to zero when idle.
    const after = await watchStatus(eddy, name, (s) => s.state === "scaled-to-zero", 90_000, 500);
    const last = after.at(-1)!;
    expect(last.state).toBe("scaled-to-zero");
    expect(last.replicas).toMatchObject({ desired: 0, ready: 0 });
    expect(last.scaler.lastChange.reason).toMatch(/scale to zero/);
    const desired = after.map((s) => s.replicas.desired);
    for (let i = 1; i < desired.length; i += 1) {
      expect(desired[i], "never up again while idle").toBeLessThanOrEqual(desired[i - 1]);
      if (desired[i] > 0) expect(desired[i], "at most halving").toBeGreaterThanOrEqual(Math.ceil(desired[i - 1] / 2));
    }
    expect(await workerPids(eddy), "no worker process at zero").toEqual([]);
    await reader.stop();
  }, 240_000);

  it("loses nothing when a replica is killed with SIGKILL during a scale-up", async () => {
    const [name, topic, out] = [unique("burst-kill"), unique("burst-kill-in"), unique("burst-kill-out")];
    await ensureTopic(topic, PARTITIONS);
    const reader = await LiveReader.start(out, PARTITIONS);
    const others = await workerPids(eddy);
    await deployWith(eddy, cpuBound(name, topic, out, { cpuMs: 2 }), { scaling: FAST_SCALING });
    await waitReady(eddy, name);
    const [first] = (await workerPids(eddy)).filter((pid) => !others.includes(pid));

    await produceMessages(topic, burst());
    // The scale-up has been decided and the new replicas are starting: kill the replica that was consuming.
    const rising = await watchStatus(eddy, name, (s) => s.replicas.desired > 1, 30_000, 100);
    expect(rising.at(-1)!.replicas.desired, "the scaler decided a scale-up").toBeGreaterThan(1);
    process.kill(first!, "SIGKILL");
    console.log(`scaler kill: killed replica pid ${first} while scaling ${rising.at(-1)!.scaler.lastChange?.from} → ${rising.at(-1)!.replicas.desired}`);

    await reader.waitFor(RECORDS, 120_000, 2_000);
    await watchStatus(eddy, name, (s) => s.lag.total === 0, 60_000);
    const { distinct, duplicates } = tally(reader.json<Output>().map((o) => o.k));
    console.log(`scaler kill: ${RECORDS} records, ${duplicates} duplicates (at-least-once redelivery of the killed replica's batch)`);
    expect(distinct).toBe(RECORDS);
    expect(reader.count).toBe(RECORDS + duplicates);
    await expectAllCommitted(`${prefix}.${name}`, topic);
    expect(await workerPids(eddy)).not.toContain(first);
    await reader.stop();
  }, 240_000);
});
