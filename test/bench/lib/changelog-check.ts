import { performance } from "node:perf_hooks";
import type { Admin, Kafka } from "kafkajs";
import { startReader } from "./kafka-tools.js";
import { sleep } from "./progress.js";

/** What the counter's changelog holds after a round: its length, its keys, and the keys whose count is not their number of records. */
export interface ChangelogCheck {
  topic: string;
  records: number;
  keys: number;
  wrongKeys: number;
}

/** Records in a topic now (end minus start, over its partitions); 0 when it does not exist. */
export async function changelogLength(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}

/**
 * Reads a counter's changelog to its end (read_committed) and checks every key's latest count against
 * `expectedCount`. For changelogs written with delivery "at-least-once" (no transaction markers).
 */
export async function checkChangelog(kafka: Kafka, admin: Admin, topic: string, expectedCount: (key: string) => number): Promise<ChangelogCheck> {
  const ends = new Map((await admin.fetchTopicOffsets(topic)).filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  const reached = new Map<number, bigint>();
  const latest = new Map<string, string | null>();
  const reader = await startReader(kafka, topic, (message, partition) => {
    reached.set(partition, BigInt(message.offset) + 1n);
    if (message.key !== null) latest.set(`${partition}/${message.key.toString()}`, message.value === null ? null : message.value.toString());
  });
  try {
    const until = performance.now() + 60_000;
    // At-least-once writes no transaction markers: the last record of a partition sits at its end minus one.
    const done = () => [...ends].every(([partition, high]) => (reached.get(partition) ?? 0n) >= high);
    while (!done() && performance.now() < until) await sleep(50);
    if (!done()) throw new Error(`${topic} was not read to its end within 60 s`);
  } finally {
    await reader.disconnect();
  }
  const keyOf = (entry: string) => entry.slice(entry.indexOf("/") + 1);
  const keys = new Set([...latest.keys()].map(keyOf));
  // A key found in two partitions counts as wrong too: its records were meant to share one.
  const wrongKeys = [...latest].filter(([entry, v]) => v === null || Number(v) !== expectedCount(keyOf(entry))).length + (latest.size - keys.size);
  return { topic, records: await changelogLength(admin, topic), keys: keys.size, wrongKeys };
}
