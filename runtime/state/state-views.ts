import type { Admin, Kafka } from "kafkajs";
import { log } from "../log.js";
import { stateTopic } from "./changelog.js";
import { ChangelogReader } from "./changelog-reader.js";

/** How long a lookup waits for the view to read up to the changelog's end before answering with what it has. */
const FRESH_WAIT_MS = 5_000;

/** One key's state as the state route answers it. */
export type StateLookup =
  | { found: false; fresh: boolean }
  | { found: true; value: unknown; partition: number; updatedAt: string; fresh: boolean };

/**
 * The control plane's read of functions' state (interactive queries, `GET /v1/functions/:name/state/:key`):
 * per function, a reader that follows its changelog from the start and keeps the latest value of every
 * key, opened at the first lookup and kept while the function exists. A lookup first waits (up to 5 s)
 * until the view has read what the changelog held when it was asked, so an answer includes every write
 * acknowledged before the request (`fresh` says whether it got that far). It works with the function at
 * zero replicas: the changelog, not a worker, is asked.
 */
export class StateViews {
  readonly #readers = new Map<string, Promise<ChangelogReader>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
  ) {}

  async lookup(functionName: string, key: string): Promise<StateLookup> {
    const topic = stateTopic(functionName);
    // Asked once, until a reader follows the changelog: a function that has written nothing yet has no topic.
    if (!this.#readers.has(functionName) && !(await this.admin.listTopics()).includes(topic)) return { found: false, fresh: true };
    const reader = await this.#reader(functionName, topic);
    const fresh = await reader.catchUp(this.admin, undefined, FRESH_WAIT_MS);
    const [latest] = reader.lookup(key);
    if (latest === undefined) return { found: false, fresh };
    let value: unknown;
    try {
      value = JSON.parse(latest.value);
    } catch {
      value = latest.value;
    }
    return { found: true, value, partition: latest.partition, updatedAt: new Date(latest.timestamp).toISOString(), fresh };
  }

  /** The function was removed: its view goes. */
  async forget(functionName: string): Promise<void> {
    const reader = this.#readers.get(functionName);
    this.#readers.delete(functionName);
    await (await reader?.catch(() => undefined))?.stop(this.admin);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#readers.keys()].map((name) => this.forget(name)));
  }

  #reader(functionName: string, topic: string): Promise<ChangelogReader> {
    let reader = this.#readers.get(functionName);
    if (reader === undefined) {
      reader = ChangelogReader.start(this.kafka, topic);
      this.#readers.set(functionName, reader);
      // A reader that failed to start is forgotten, so the next lookup tries again.
      reader.catch((error: unknown) => {
        log.warn({ err: error, function: functionName }, "reading the state changelog failed");
        if (this.#readers.get(functionName) === reader) this.#readers.delete(functionName);
      });
    }
    return reader;
  }
}
