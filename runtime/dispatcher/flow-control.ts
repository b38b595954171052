import type { Consumer } from "kafkajs";
import type { PartitionWork } from "./partition-work.js";

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Keeps kafkajs' paused partitions in line with what the dispatcher wants: a partition is paused
 * (not fetched) while its records wait for a retry, while its window of unfinished records is
 * full, while the breaker is not closed, and while the replica stops. Waiting is this pause,
 * never a sleep in kafkajs' eachBatch, so heartbeats and the other partitions go on.
 */
export class FlowControl {
  readonly #paused = new Map<string, { topic: string; partition: number }>();

  constructor(private readonly consumer: Consumer) {}

  apply(works: Iterable<PartitionWork>, shouldPause: (work: PartitionWork) => boolean): void {
    const pause: { topic: string; partition: number }[] = [];
    const resume: { topic: string; partition: number }[] = [];
    for (const work of works) {
      const key = keyOf(work.topic, work.partition);
      const want = shouldPause(work);
      if (want && !this.#paused.has(key)) {
        this.#paused.set(key, work);
        pause.push(work);
      } else if (!want && this.#paused.has(key)) {
        this.#paused.delete(key);
        resume.push(work);
      }
    }
    if (pause.length > 0) this.#tell("pause", pause);
    if (resume.length > 0) this.#tell("resume", resume);
  }

  /**
   * kafkajs throws ("Consumer group was not initialized") between a consumer crash and its restart;
   * nothing is fetched then anyway, and the rejoin's `reset` decides every partition afresh.
   */
  #tell(action: "pause" | "resume", partitions: { topic: string; partition: number }[]): void {
    try {
      this.consumer[action](byTopic(partitions));
    } catch {
      // Not running: see above.
    }
  }

  /**
   * After a (re)join kafkajs may hold a fresh pause state: forget ours, resume what is no longer
   * ours (so a later assignment does not start paused), and let the next `apply` decide again.
   */
  reset(assigned: Iterable<PartitionWork>): void {
    const all = [...this.#paused.values(), ...assigned];
    this.#paused.clear();
    if (all.length > 0) this.#tell("resume", all);
  }
}

function byTopic(partitions: { topic: string; partition: number }[]): { topic: string; partitions: number[] }[] {
  const grouped = new Map<string, number[]>();
  for (const { topic, partition } of partitions) grouped.set(topic, [...(grouped.get(topic) ?? []), partition]);
  return [...grouped].map(([topic, list]) => ({ topic, partitions: list }));
}
