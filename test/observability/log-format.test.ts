import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { eventually } from "../helpers/kafka.js";

describe("readable log lines with --log-format pretty", () => {
  let eddy: EddyProcess | undefined;
  afterAll(async () => {
    await eddy?.stop();
  });

  it("prints time, level, function and message on one line, the workers' lines too, and no JSON", async () => {
    const prefix = `pretty-${randomUUID().slice(0, 8)}`;
    const name = `pretty-${prefix.slice(7)}`;
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-pretty"), EDDY_TOPIC_PREFIX: `${prefix}.` }, ["--log-format", "pretty"]);
    const source = `import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: ${JSON.stringify(name)}, topics: [${JSON.stringify(`${prefix}-in`)}], handle() {} });`;
    expect((await eddy.api("POST", "/v1/functions", { source })).status).toBe(201);
    // The worker's own line passes through the control plane, which prints it the same way.
    const ready = new RegExp(`^\\[\\d{2}:\\d{2}:\\d{2}\\.\\d{3}\\] INFO[^\\n]*: \\[${name}\\] worker ready`, "m");
    expect(await eventually(async () => ready.test(eddy!.logs), 30_000)).toBe(true);
    expect(eddy.logs).not.toMatch(/^\{"level"/m);
  });
});
