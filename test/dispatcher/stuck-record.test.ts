import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEddy, type EddyProcess } from "../helpers/eddy-process.js";
import { consumeAll } from "../helpers/kafka.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, produceMessages, startEddy, stopEddy, unique } from "./support.js";

describe("a record its partition waits behind, on the real broker", () => {
  const prefix = unique("stuck");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("is named in the status with why it waits, and `eddy dead-letter` moves it to the dead-letter topic so the partition goes on", async () => {
    const [name, topic, out] = [unique("stuck"), unique("stuck-in"), unique("stuck-out")];
    await ensureTopic(topic, 1);
    const reader = await LiveReader.start(out, 1);
    await deploy(
      eddy,
      `import { defineFunction } from "eddy/sdk";
class DownstreamError extends Error { name = "DownstreamError"; }
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  batch: { maxSize: 1 },
  retry: { maxAttempts: 3, backoff: { initialMs: 50, multiplier: 2, jitter: "none" } },
  circuitBreaker: { consecutiveFailures: 3, openMs: 500, maxOpenMs: 1000 },
  async handle(event, ctx) {
    // On a quiet partition nothing after it succeeds, so Eddy cannot tell poison from an outage: it waits.
    if (event.key === "r3") throw new DownstreamError("the enrichment service says 503 for r3");
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
    );
    await produceMessages(topic, Array.from({ length: 6 }, (_, i) => ({ key: `r${i}`, value: String(i), partition: 0 })));
    await reader.waitFor(3, 30_000);

    // 3 open periods of 500 ms with no success: reported stuck.
    expect(await eventually(async () => (await functionStatus(eddy, name)).stuck?.length === 1, 30_000)).toBe(true);
    const status = await functionStatus(eddy, name);
    expect(status.stuck[0]).toMatchObject({ topic, partition: 0, offset: "3", lastError: { name: "DownstreamError", message: "the enrichment service says 503 for r3" } });
    expect(status.stuck[0].attempts).toBeGreaterThanOrEqual(3);
    expect(status.stateReason).toContain(`eddy dead-letter ${name} ${topic}/0@3`);
    expect(reader.count).toBe(3);

    const env = { EDDY_URL: eddy.url, EDDY_API_TOKEN: eddy.token };
    const wrong = await runEddy(["dead-letter", name, `${topic}/0@5`], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`no replica of '${name}' holds ${topic}/0@5 as a failed record waiting`);
    const bad = await runEddy(["dead-letter", name, `${topic}-0-3`], env);
    expect(bad.stderr).toContain("expected <topic>/<partition>@<offset>");

    const moved = await runEddy(["dead-letter", name, `${topic}/0@3`], env);
    expect(moved.stderr).toBe("");
    // Asked while the breaker's probe invokes it, it goes there as soon as that attempt fails: either way, next.
    expect(moved.stdout).toMatch(new RegExp(`^${topic}/0@3 (goes|is being invoked right now: if this attempt fails, it goes) to ${name}\\.dlt with its last error`));

    const dlt = await consumeAll(`${name}.dlt`, 1, { timeoutMs: 30_000, settleMs: 500 });
    expect(dlt.map((m) => m.key!.toString())).toEqual(["r3"]);
    expect(dlt[0]!.headers!["eddy-dlt-error-name"]!.toString()).toBe("DownstreamError");
    await reader.waitFor(5, 30_000, 500);
    expect(reader.messages.map((m) => m.key!.toString())).toEqual(["r0", "r1", "r2", "r4", "r5"]);
    expect(await eventually(async () => (await functionStatus(eddy, name)).stuck.length === 0, 10_000)).toBe(true);
    expect(eddy.logs).toContain("an operator dead-lettered a record");
    await reader.stop();
  }, 120_000);
});
