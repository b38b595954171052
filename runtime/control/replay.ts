import type { Admin } from "kafkajs";
import type { FieldProblem } from "../config/field-problems.js";
import type { ReplayFrom } from "./api-schemas.js";
import { httpError } from "./errors.js";

export type TopicOffsets = { topic: string; partition: number; offset: string }[];

/**
 * Where `from` puts the function's group on each of its topics' partitions: the log start, the log end,
 * the first record at or after a time (the end where there is none), or the explicit offsets given (other
 * partitions stay where they are). Explicit offsets are checked against the topics: a topic the function
 * does not read, a partition that does not exist or an offset past the end is a 400 naming it.
 */
export async function replayOffsets(admin: Admin, topics: string[], from: ReplayFrom): Promise<TopicOffsets> {
  const offsets: TopicOffsets = [];
  if (typeof from === "string") {
    const time = from === "earliest" || from === "latest" ? null : Date.parse(from);
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const atTime = time === null ? null : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, time)).map((p) => [p.partition, p.offset]));
      for (const end of ends) {
        const offset = from === "earliest" ? end.low : from === "latest" ? end.high : (atTime?.get(end.partition) ?? end.high);
        offsets.push({ topic, partition: end.partition, offset });
      }
    }
    return offsets;
  }

  const problems: FieldProblem[] = [];
  for (const [topic, partitions] of Object.entries(from)) {
    if (!topics.includes(topic)) {
      problems.push({ path: `from.${topic}`, message: `not a topic of this function (it reads ${topics.join(", ")})` });
      continue;
    }
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((e) => [e.partition, e]));
    for (const [partition, offset] of Object.entries(partitions)) {
      const end = ends.get(Number(partition));
      const wanted = BigInt(offset);
      if (!end) problems.push({ path: `from.${topic}.${partition}`, message: `no such partition (the topic has ${ends.size})` });
      else if (wanted < BigInt(end.low) || wanted > BigInt(end.high)) {
        problems.push({ path: `from.${topic}.${partition}`, message: `expected an offset from ${end.low} to ${end.high}, got ${String(offset)}` });
      } else offsets.push({ topic, partition: Number(partition), offset: wanted.toString() });
    }
  }
  if (problems.length > 0) throw httpError("EDDY_BAD_REQUEST", `invalid replay position: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`, problems);
  return offsets;
}
