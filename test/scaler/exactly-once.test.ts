import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { testKafka } from "../helpers/kafka.js";
import { ensureTopic, eventually, LiveReader, produceMessages, startEddy, stopEddy, tally, unique, waitReady, workerPids } from "../dispatcher/support.js";
import { cpuBound, deployWith, FAST_SCALING, watchStatus } from "./support.js";

const PARTITIONS = 3;
const RECORDS = 6_000;

/**
 * The transactional ids the broker's transaction coordinator has stored, read from its own log
 * (`__transaction_state`, whose keys are a version and the id as a length-prefixed string).
 */
async function brokerTransactionalIds(prefix: string): Promise<string[]> {
  const ids = new Set<string>();
  const consumer = testKafka().consumer({ groupId: `eddy-test-txn-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: "__transaction_state", fromBeginning: true });
    let last = Date.now();
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        last = Date.now();
        const key = message.key;
        if (!key || key.length < 4) return;
        const id = key.toString("utf8", 4, 4 + key.readInt16BE(2));
        if (id.startsWith(prefix)) ids.add(id);
      },
    });
    // Read until the log has been quiet for a moment (it holds only this run's few transactions).
    while (Date.now() - last < 3_000) await new Promise((resolve) => setTimeout(resolve, 250));
  } finally {
    await consumer.disconnect();
  }
  return [...ids].sort();
}

describe("exactly-once across scaling, on the real broker", () => {
  const prefix = unique("scale-eos");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("scales 1 → 3 → 1 with a kill -9 in between, and a read_committed reader sees each result exactly once", async () => {
    const [name, topic, out] = [unique("eos"), unique("eos-in"), unique("eos-out")];
    await ensureTopic(topic, PARTITIONS);
    const reader = await LiveReader.start(out, PARTITIONS);
    await deployWith(eddy, cpuBound(name, topic, out, { cpuMs: 3, config: 'delivery: "exactly-once",' }), { scaling: { ...FAST_SCALING, minReplicas: 1 } });
    await waitReady(eddy, name);
    const before = await workerPids(eddy);

    await produceMessages(
      topic,
      Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: String(i), partition: i % PARTITIONS })),
    );
    const up = await watchStatus(eddy, name, (s) => s.replicas.ready === 3, 60_000, 100);
    expect(up.at(-1)!.replicas, "three replicas consuming").toMatchObject({ desired: 3, ready: 3 });
    const lagAtKill = up.at(-1)!.lag.total;
    const victim = (await workerPids(eddy)).find((pid) => !before.includes(pid))!;
    process.kill(victim, "SIGKILL");
    console.log(`scaler exactly-once: killed a replica (pid ${victim}) at 3 replicas with ${lagAtKill} records of lag`);
    expect(lagAtKill, "the kill lands while records are left").toBeGreaterThan(0);

    await reader.waitFor(RECORDS, 120_000, 3_000);
    const { distinct, duplicates } = tally(reader.json<{ k: string }>().map((o) => o.k));
    expect(distinct).toBe(RECORDS);
    expect(duplicates).toBe(0);
    expect(reader.count).toBe(RECORDS);

    const down = await watchStatus(eddy, name, (s) => s.replicas.desired === 1 && s.replicas.ready === 1, 60_000, 500);
    expect(down.at(-1)!.replicas).toMatchObject({ desired: 1, ready: 1 });
    // Scale-down drained the highest indices: the replica left is the first one (index 0), never restarted.
    expect(await eventually(async () => JSON.stringify(await workerPids(eddy)) === JSON.stringify(before), 30_000)).toBe(true);

    // Each replica index had its own transactional id on the broker: eddy-tx.<group>.<index>.
    expect(await brokerTransactionalIds(`eddy-tx.${prefix}.${name}.`)).toEqual([0, 1, 2].map((i) => `eddy-tx.${prefix}.${name}.${i}`));
    await reader.stop();
  }, 240_000);
});
