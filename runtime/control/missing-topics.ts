import type { Admin, Kafka } from "kafkajs";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import { commitAsMember } from "../kafka/topics.js";
import { log } from "../log.js";
import { missingTopics } from "../scaler/lag-observer.js";
import type { WorkerSupervisor } from "../worker/supervisor.js";
import type { LogBook } from "./log-book.js";

const POLL_MS = 2_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface MissingTopicGuardOptions {
  admin: Admin;
  kafka: Kafka;
  supervisor: WorkerSupervisor;
  topicPrefix: string;
  logs: LogBook;
  /** The function as deployed now; undefined once it was deleted. */
  record: (name: string) => FunctionRecord | undefined;
}

/**
 * A topic deleted under a running function: its workers are held stopped until the topic exists
 * again, then the group starts at the beginning of the new topic. Why: the group's committed offsets
 * belong to the old log; against the new one they point past its end (Kafka would reset to "latest"
 * and skip what was written) or into the middle of records the function never saw. Nothing of the
 * old topic is left to process, so the new one is read whole.
 */
export class MissingTopicGuard {
  readonly #waiting = new Map<string, Promise<void>>();

  constructor(private readonly options: MissingTopicGuardOptions) {}

  /** The scaler found topics of the function missing: hold it until they are back (once per outage). */
  onMissing(name: string, topics: string[]): void {
    if (this.#waiting.has(name)) return;
    const waiting = this.options.supervisor
      .hold(name, () => this.#waitAndRewind(name, topics))
      .catch((error: unknown) => log.error({ err: error, function: name }, "could not restart the function after its topic came back"))
      .finally(() => this.#waiting.delete(name));
    this.#waiting.set(name, waiting);
  }

  async #waitAndRewind(name: string, topics: string[]): Promise<void> {
    const { admin, kafka, logs, topicPrefix } = this.options;
    const say = (level: "info" | "warn", message: string) => {
      log[level]({ function: name, topics }, message);
      logs.appendEddy(name, level, message);
    };
    say("warn", `${topics.map((t) => `topic '${t}'`).join(", ")} ${topics.length === 1 ? "does" : "do"} not exist: the function's workers are stopped until it is created again`);
    for (;;) {
      if (this.options.record(name) === undefined) return;
      const missing = await missingTopics(admin, topics).catch(() => topics);
      if (missing.length === 0) break;
      await sleep(POLL_MS);
    }
    const offsets = (await Promise.all(topics.map(async (topic) => (await admin.fetchTopicOffsets(topic)).map((p) => ({ topic, partition: p.partition, offset: p.low }))))).flat();
    await commitAsMember(kafka, consumerGroupId(topicPrefix, name), topics, offsets);
    say("info", `${topics.map((t) => `topic '${t}'`).join(", ")} exists again: the function starts from the new topic's beginning`);
  }
}
