import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, ensureTopic, eventually, produce } from "../helpers/kafka.js";

/** The dashboard's reads on the real broker: a function's history and its dead-letter topic's newest records. */
describe("history and dead letters, on the real broker", () => {
  const prefix = `hist-${randomUUID().slice(0, 8)}`;
  const name = `judge-${prefix.slice(5)}`;
  const topic = `${prefix}-in`;
  let eddy: EddyProcess | undefined;

  beforeAll(async () => {
    await ensureTopic(topic);
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-history"), EDDY_TOPIC_PREFIX: `${prefix}.` });
    const source = `import { defineFunction, NonRetriableError } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  handle(event) { if (event.text().startsWith("bad")) throw new NonRetriableError("refused " + event.text()); },
});`;
    expect((await eddy.api("POST", "/v1/functions", { source })).status).toBe(201);
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("shows the newest dead-lettered records, newest first, with their eddy-dlt-* headers", async () => {
    await produce(topic, [{ key: "a", value: "bad 1" }]);
    await consumeAll(`${name}.dlt`, 1);
    await produce(topic, [
      { key: "b", value: "bad 2" },
      { key: "c", value: "good" },
      { key: "d", value: "bad 3" },
    ]);
    await consumeAll(`${name}.dlt`, 3);
    const { status, body } = await eddy!.api("GET", `/v1/functions/${name}/dead-letters?limit=2`);
    expect(status).toBe(200);
    expect(body.topic).toBe(`${name}.dlt`);
    expect(body.records).toHaveLength(2);
    // "bad 1" was dead-lettered first, on its own: the two newest are the later two.
    expect(body.records.map((r: { value: string }) => r.value).sort()).toEqual(["bad 2", "bad 3"]);
    for (const record of body.records) {
      expect(record.headers).toMatchObject({ "eddy-dlt-original-topic": topic, "eddy-dlt-function": name, "eddy-dlt-error-message": `refused ${record.value}` });
    }
    const [newer, older] = body.records as { timestamp: string }[];
    expect(newer!.timestamp >= older!.timestamp).toBe(true);
  });

  it("samples the function every 5 s: lag, rates, replicas", async () => {
    // The records above were all handled: within a few samples the processed rate showed them and the lag is 0.
    expect(
      await eventually(async () => {
        const { body } = await eddy!.api("GET", `/v1/functions/${name}/history`);
        return body.samples.length >= 2;
      }, 20_000),
    ).toBe(true);
    const { body } = await eddy!.api("GET", `/v1/functions/${name}/history`);
    expect(body.intervalMs).toBe(5_000);
    const last = body.samples.at(-1);
    expect(last).toMatchObject({ lag: 0, replicasDesired: 1, replicasReady: 1 });
    expect(Date.parse(last.at)).toBeGreaterThan(Date.now() - 15_000);
    expect(body.samples.every((s: { processedPerSec: number; deadLetteredPerSec: number }) => s.processedPerSec >= 0 && s.deadLetteredPerSec >= 0)).toBe(true);
  });
});
