import type { PartitionWork, PendingRecord } from "./partition-work.js";
import type { TopicMessages } from "./kafka-records.js";

/** What one dispatch leaves behind: records that finished, and what they produce. */
export interface CompletedWork {
  work: PartitionWork;
  /** Succeeded or dead-lettered: marked finished in the tracker once `messages` are durable. */
  finished: PendingRecord[];
  /** Emits of the succeeded records and dead-letter copies, all written with acks from every in-sync replica. */
  messages: TopicMessages[];
}

/**
 * How results become durable and offsets committed. The at-least-once sink produces each
 * dispatch's messages and then commits the offsets they allow; the exactly-once sink writes
 * messages and offsets in one transaction.
 */
export interface RecordSink {
  /** Connects (and, for transactions, fences a previous incarnation) before the consumer joins. */
  start(): Promise<void>;
  /**
   * Makes `messages` durable, marks `finished` in the tracker and arranges the commit. Resolves
   * false when it gave up because the partition was lost; never rejects.
   */
  complete(completed: CompletedWork): Promise<boolean>;
  /** The watermark moved without any output (e.g. past transaction markers): commit soon. */
  requestCommit(): void;
  /** Commits everything finished so far, now (before a rebalance completes, or when stopping). */
  flush(): Promise<void>;
  /**
   * The replica is about to rejoin its group: what finished is committed, and nothing more is until
   * `assignmentKnown()`, so no commit of a partition it is losing lands after the next owner read its offsets.
   */
  beforeRejoin(): Promise<void>;
  /** The new assignment is known (revoked partitions are gone from the works): commits may go on. */
  assignmentKnown(): void;
  stop(): Promise<void>;
}

/** The partitions a sink may commit: assigned to this replica and not revoked. */
export type OwnedWorks = () => Iterable<PartitionWork>;

/** Offsets that moved since the last commit, grouped as kafkajs takes them. */
export function offsetsToCommit(works: OwnedWorks): { topic: string; partitions: { partition: number; offset: string }[] }[] {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const work of works()) {
    if (work.revoked) continue;
    const offset = work.tracker.committable();
    if (offset === undefined || (work.committed !== undefined && offset <= work.committed)) continue;
    const list = byTopic.get(work.topic) ?? [];
    list.push({ partition: work.partition, offset: offset.toString() });
    byTopic.set(work.topic, list);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

/** Records what was just committed, so the next commit sends only what moved. */
export function markCommitted(works: OwnedWorks, offsets: ReturnType<typeof offsetsToCommit>): void {
  const committed = new Map(offsets.flatMap(({ topic, partitions }) => partitions.map((p) => [`${topic}\u0000${p.partition}`, BigInt(p.offset)] as const)));
  for (const work of works()) {
    const offset = committed.get(`${work.topic}\u0000${work.partition}`);
    if (offset !== undefined && (work.committed === undefined || offset > work.committed)) work.committed = offset;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
