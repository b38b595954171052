import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { ensureTopic, LiveReader, produceMessages, producePaced, sleep, standbyPids, startEddy, stopEddy, unique, waitReady, workerPids } from "../dispatcher/support.js";
import { cpuBound, deployWith, FAST_SCALING, watchStatus } from "./support.js";

describe("scaling to zero and back, and holding steady, on the real broker", () => {
  const prefix = unique("scale-zero");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("stops every worker after the idle time, then one record brings a replica back (the standby worker, booted ahead) and is processed", async () => {
    const [name, topic, out] = [unique("zero"), unique("zero-in"), unique("zero-out")];
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out);
    await deployWith(eddy, cpuBound(name, topic, out, { cpuMs: 0 }), { scaling: FAST_SCALING });
    await waitReady(eddy, name);

    const idle = await watchStatus(eddy, name, (s) => s.state === "scaled-to-zero", 30_000, 500);
    expect(idle.at(-1)!).toMatchObject({ state: "scaled-to-zero", replicas: { desired: 0, ready: 0 } });
    expect(await workerPids(eddy), "no worker process at zero").toEqual([]);
    // One worker process stays booted ahead of need, running no function: the replica that wakes is that process.
    const standby = await standbyPids(eddy);
    expect(standby, "one standby worker").toHaveLength(1);
    // Lag is still read at zero replicas (from Kafka, with no consumer).
    expect(idle.at(-1)!.lag.partitions).toHaveLength(3);
    // What KEDA's metrics-api scaler reads, and what Prometheus scrapes.
    expect((await eddy.api("GET", `/v1/functions/${name}/scale`)).body).toEqual({ name, desiredReplicas: 0, lag: 0, arrivalPerSec: 0 });
    const metrics = await (await fetch(`${eddy.url}/metrics`)).text();
    expect(metrics).toContain(`eddy_replicas{function="${name}",kind="desired"} 0`);
    expect(metrics).toMatch(new RegExp(`eddy_scaling_decisions_total\\{function="${name}"\\} [1-9]`));
    expect(metrics).toContain(`eddy_arrival_rate{function="${name}"} 0`);
    expect(metrics).toContain(`eddy_scaler_panic{function="${name}"} 0`);

    const sentAt = Date.now();
    await produceMessages(topic, [{ key: "wake", value: "1" }]);
    await reader.waitFor(1, 30_000);
    console.log(`scaler activation: first record processed ${Date.now() - sentAt} ms after it was produced at zero replicas`);
    expect(reader.json<{ k: string }>().map((o) => o.k)).toEqual(["wake"]);
    const awake = await watchStatus(eddy, name, (s) => s.replicas.ready === 1 && s.lag.total === 0, 10_000);
    expect(awake.at(-1)!).toMatchObject({ state: "running", replicas: { desired: 1, ready: 1 } });
    expect(awake.at(-1)!.scaler.lastChange).toMatchObject({ from: 0, to: 1 });
    expect(awake.at(-1)!.scaler.lastChange.reason).toMatch(/^activation/);
    expect(await workerPids(eddy), "the woken replica is the standby process, retitled").toEqual(standby);
    expect(await standbyPids(eddy), "the standby is no longer one").not.toContain(standby[0]);
    expect((await eddy.api("GET", `/v1/functions/${name}/scale`)).body).toMatchObject({ name, desiredReplicas: 1, lag: 0 });
    const logs = (await eddy.api("GET", `/v1/functions/${name}/logs`)).body.lines.map((l: { message: string }) => l.message);
    expect(logs).toContainEqual(expect.stringMatching(/^scaled 1 → 0: idle/));
    expect(logs).toContainEqual(expect.stringMatching(/^scaled 0 → 1: activation/));
    await reader.stop();
  }, 120_000);

  it("keeps one replica for a steady stream it keeps up with, for 30 s", async () => {
    const [name, topic, out] = [unique("steady"), unique("steady-in"), unique("steady-out")];
    await ensureTopic(topic, 3);
    // The default scaling settings: a 60 s stable window, lagThreshold 100, one reading a second.
    await deployWith(eddy, cpuBound(name, topic, out, { cpuMs: 2 }), {});
    await waitReady(eddy, name);

    const desired: number[] = [];
    let streaming = true;
    const watching = (async () => {
      while (streaming) {
        const status = (await eddy.api("GET", `/v1/functions/${name}`)).body;
        desired.push(status.replicas.desired);
        await sleep(500);
      }
    })();
    // 100 records a second (a fifth of what one replica does at 2 ms a record), for 30 s.
    const messages = Array.from({ length: 3_000 }, (_, i) => ({ key: `s${i}`, value: String(i) }));
    await producePaced(topic, messages, 10, 100);
    streaming = false;
    await watching;

    const final = (await eddy.api("GET", `/v1/functions/${name}`)).body;
    console.log(`scaler steady: ${desired.length} readings of desired over 30 s: ${[...new Set(desired)].join(", ")}; arrival ${final.scaler.arrivalPerSec}/s`);
    expect(desired.length).toBeGreaterThan(40);
    expect(new Set(desired)).toEqual(new Set([1]));
    expect(final.scaler).toMatchObject({ mode: "stable", decisions: 0 });
    expect(final.scaler.arrivalPerSec).toBeGreaterThan(0);
  }, 120_000);
});
