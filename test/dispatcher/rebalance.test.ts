import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, producePaced, startEddy, stopEddy, tally, unique, waitReady } from "./support.js";

const RECORDS = 10_000;

describe("a rebalance on the real broker", () => {
  const prefix = unique("rebalance");
  let first: EddyProcess | undefined;
  let second: EddyProcess | undefined;

  beforeAll(async () => {
    first = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(second, `${prefix}-second`);
    await stopEddy(first, prefix);
  });

  it("loses nothing when a second replica joins in the middle of a 10,000-record run", async () => {
    const [name, topic, out] = [unique("rebalance"), unique("rebalance-in"), unique("rebalance-out")];
    await ensureTopic(topic, 4);
    const reader = await LiveReader.start(out);
    await deploy(
      first!,
      `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  timeoutMs: 5000,
  async handle(event, ctx) {
    // A little work per record, so that the run lasts long enough for the second replica to join in its middle.
    if (Number(event.offset) % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
    );
    await waitReady(first!, name);
    const messages = Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: String(i), partition: i % 4 }));

    // A second Eddy on the same registry runs a second worker of the function: a second member of its group.
    let joined: Promise<number> | undefined;
    await producePaced(topic, messages, 500, 500, (sent) => {
      if (sent !== 2_000) return;
      joined = (async () => {
        second = await startEddy(prefix);
        await waitReady(second, name);
        return reader.count;
      })();
    });
    expect(await joined!, "the second replica joined while records were still being processed").toBeLessThan(RECORDS - 1_000);

    await reader.waitFor(RECORDS, 90_000, 2_000);
    const { distinct, duplicates } = tally(reader.messages.map((m) => m.key!.toString()));
    console.log(`rebalance test: ${RECORDS} records, ${duplicates} duplicates`);
    expect(distinct).toBe(RECORDS);
    // Both replicas took part.
    expect(await eventually(async () => (await functionStatus(second!, name)).stats?.processed > 0, 10_000)).toBe(true);
    const processed = [(await functionStatus(first!, name)).stats.processed, (await functionStatus(second, name)).stats.processed];
    expect(processed[0]! + processed[1]!).toBe(RECORDS + duplicates);
    await reader.stop();
  }, 180_000);
});
