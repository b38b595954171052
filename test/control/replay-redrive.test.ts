import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, eventually, produce } from "../helpers/kafka.js";
import { echo, picky } from "./sources.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const values = async (topic: string, count: number, settleMs = 1_500) =>
  (await consumeAll(topic, count, { settleMs })).map((m) => m.value!.toString()).sort();

describe("replay and redrive on the real broker", () => {
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-replay"), EDDY_TOPIC_PREFIX: "rr." });
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("replays from a time exactly the records at or after it", async () => {
    expect((await eddy.api("POST", "/v1/functions", { source: echo("rp", "rp-in", "rp-out", "seen") })).status).toBe(201);
    await produce("rp-in", ["a0", "a1", "a2", "a3", "a4"].map((v) => ({ key: v, value: v })));
    expect(await values("rp-out", 5, 500)).toHaveLength(5);
    await sleep(50);
    const from = new Date().toISOString();
    await sleep(50);
    const later = ["b0", "b1", "b2", "b3", "b4"];
    await produce("rp-in", later.map((v) => ({ key: v, value: v })));
    expect(await values("rp-out", 10, 500)).toHaveLength(10);

    const replay = await eddy.api("POST", "/v1/functions/rp/replay", { from });
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ name: "rp", from, paused: false });
    const after = await values("rp-out", 15, 3_000);
    expect(after).toHaveLength(15);
    const counts = new Map<string, number>();
    for (const v of after) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const v of later) expect(counts.get(`seen:${v}`)).toBe(2);
    for (const v of ["a0", "a1", "a2", "a3", "a4"]) expect(counts.get(`seen:${v}`)).toBe(1);
  });

  it("replays from explicit offsets and refuses a partition that does not exist", async () => {
    const bad = await eddy.api("POST", "/v1/functions/rp/replay", { from: { "rp-in": { "99": "0" }, other: { "0": "0" } } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(["from.other", "from.rp-in.99"]);
    const latest = await eddy.api("POST", "/v1/functions/rp/replay", { from: "latest" });
    expect(latest.status).toBe(202);
    expect(latest.body.offsets.reduce((sum: number, o: { offset: string }) => sum + Number(o.offset), 0)).toBe(10);
  });

  it("redrives dead-lettered records through a fixed version and empties the backlog, without looping", async () => {
    expect((await eddy.api("POST", "/v1/functions", { source: picky("rd", "rd-in", "rd-out", "v1") })).status).toBe(201);
    const records = [1, 2, 3, 4, 5].map((id) => ({ key: `k${id}`, value: JSON.stringify({ id, fail: id % 2 === 1 }) }));
    await produce("rd-in", records);
    expect(await values("rd-out", 2, 500)).toEqual(["v1:2", "v1:4"]);
    expect(await consumeAll("rd.dlt", 3, { settleMs: 500 })).toHaveLength(3);

    // The fix: v2 accepts everything.
    const fixed = picky("rd", "rd-in", "rd-out", "v2").replace("body.fail === true", "false");
    expect((await eddy.api("POST", "/v1/functions", { source: fixed })).body.version).toBe(2);
    const redrive = await eddy.api("POST", "/v1/functions/rd/redrive");
    expect(redrive.status).toBe(202);
    expect(redrive.body).toMatchObject({ name: "rd", topic: "rd.dlt", total: 3, version: 2 });
    expect(await eventually(async () => (await eddy.api("GET", "/v1/functions/rd")).body.redrive?.state === "done")).toBe(true);
    expect((await eddy.api("GET", "/v1/functions/rd")).body.redrive).toMatchObject({ total: 3, done: 3, succeeded: 3, deadLettered: 0 });
    expect(await values("rd-out", 5)).toEqual(["v1:2", "v1:4", "v2:1", "v2:3", "v2:5"]);
    expect(await consumeAll("rd.dlt", 3, { settleMs: 500 })).toHaveLength(3);

    // Nothing left: a second redrive has nothing to do.
    const empty = await eddy.api("POST", "/v1/functions/rd/redrive");
    expect(empty.body).toMatchObject({ state: "done", total: 0 });

    // A version that still fails: the record is dead-lettered again, once, and the redrive ends.
    expect((await eddy.api("POST", "/v1/functions", { source: picky("rd", "rd-in", "rd-out", "v3", true) })).body.version).toBe(3);
    await produce("rd-in", [{ key: "k6", value: JSON.stringify({ id: 6 }) }]);
    expect(await consumeAll("rd.dlt", 4, { settleMs: 500 })).toHaveLength(4);
    const again = await eddy.api("POST", "/v1/functions/rd/redrive");
    expect(again.body.total).toBe(1);
    expect(await eventually(async () => (await eddy.api("GET", "/v1/functions/rd")).body.redrive?.state === "done")).toBe(true);
    expect((await eddy.api("GET", "/v1/functions/rd")).body.redrive).toMatchObject({ done: 1, succeeded: 0, deadLettered: 1 });
    const dlt = await consumeAll("rd.dlt", 5, { settleMs: 2_000 });
    expect(dlt).toHaveLength(5);
    const last = dlt.find((m) => m.headers?.["eddy-dlt-function-version"]?.toString() === "3");
    expect(last?.headers?.["eddy-dlt-original-topic"]?.toString()).toBe("rd-in");
    expect(last?.headers?.["eddy-dlt-error-message"]?.toString()).toBe("refusing 6");
  });
});
