import type { Kafka } from "kafkajs";
import { dispatcherError } from "../dispatcher/errors.js";
import { log } from "../log.js";
import { ChangelogReader } from "./changelog-reader.js";
import type { StateStore } from "./state-store.js";

/** How long one restore may take to read its partitions to their end before it starts again. */
const CATCH_UP_MS = 120_000;
/** After this long without restoring a partition the worker gives up (and is restarted). */
const GIVE_UP_MS = 600_000;

export interface StateRestorerOptions {
  kafka: Kafka;
  topic: string;
  store: StateStore;
  functionName: string;
  /** Whether `partition` still waits for its state (it may have been revoked meanwhile). */
  wanted: (partition: number) => boolean;
  /** `partition`'s state is in the store. */
  restored: (partition: number) => void;
  onFatal: (error: Error) => void;
}

/**
 * Restores a worker's newly assigned partitions from the changelog, before their first invocation:
 * one reader for all the partitions asked for together, read to the log end seen when it started
 * (read_committed: with "exactly-once" the state of committed transactions only). Partitions asked
 * for while a restore runs go in the next one.
 */
export class StateRestorer {
  readonly #asked = new Set<number>();
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly options: StateRestorerOptions) {}

  restore(partitions: readonly number[]): void {
    for (const partition of partitions) this.#asked.add(partition);
    this.#running ??= this.#loop().finally(() => (this.#running = undefined));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    const since = Date.now();
    for (let attempt = 1; this.#asked.size > 0 && !this.#stopped; attempt++) {
      const partitions = [...this.#asked].filter((p) => this.options.wanted(p));
      this.#asked.clear();
      if (partitions.length === 0) continue;
      try {
        await this.#restoreOnce(partitions);
      } catch (error) {
        for (const partition of partitions) this.#asked.add(partition);
        const context = { function: this.options.functionName, topic: this.options.topic, partitions, attempt };
        if (Date.now() - since > GIVE_UP_MS) {
          this.options.onFatal(dispatcherError("EDDY_DISPATCH_STATE_RESTORE_FAILED", `restoring state from ${this.options.topic} failed for ${GIVE_UP_MS / 1000} s`, context, error));
          return;
        }
        log.warn({ ...context, err: error }, "restoring state failed; trying again");
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
      }
    }
  }

  async #restoreOnce(partitions: number[]): Promise<void> {
    const { kafka, topic, store } = this.options;
    const startedAt = Date.now();
    const admin = kafka.admin();
    await admin.connect();
    const keep = new Set(partitions);
    const reader = await ChangelogReader.start(kafka, topic, (p) => keep.has(p));
    try {
      if (!(await reader.catchUp(admin, partitions, CATCH_UP_MS))) throw new Error(`the changelog was not read to its end within ${CATCH_UP_MS / 1000} s`);
      let keys = 0;
      for (const partition of partitions) {
        if (!this.options.wanted(partition)) continue;
        const values = new Map<string, string>();
        for (const [key, entry] of reader.values(partition)) values.set(key, entry.value);
        store.load(partition, values);
        keys += values.size;
        this.options.restored(partition);
      }
      log.info({ function: this.options.functionName, topic, partitions, keys, bytes: store.bytes, ms: Date.now() - startedAt }, "state restored");
      if (store.bytes > store.maxBytes) {
        log.warn({ function: this.options.functionName, bytes: store.bytes, maxBytes: store.maxBytes }, "the restored state is over state.maxBytes: writes that grow it are refused (EDDY_STATE_FULL)");
      }
    } finally {
      await reader.stop(admin);
      await admin.disconnect();
    }
  }
}
