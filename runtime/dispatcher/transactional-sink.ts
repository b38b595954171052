import { Partitioners, type Kafka, type Producer, type Transaction } from "kafkajs";
import { log } from "../log.js";
import { dispatcherError, isFenced } from "./errors.js";
import { mergeTopicMessages } from "./kafka-records.js";
import { markCommitted, offsetsToCommit, sleep, type CompletedWork, type OwnedWorks, type RecordSink } from "./record-sink.js";

const MAX_TRANSACTION_ATTEMPTS = 5;

export interface TransactionalSinkOptions {
  kafka: Kafka;
  groupId: string;
  /** Stable per replica: a restarted worker fences its dead predecessor and finishes its open transaction. */
  transactionalId: string;
  functionName: string;
  works: OwnedWorks;
  /** The sink cannot go on (fenced, or transactions keep failing): the worker must restart. */
  onFatal: (error: Error) => void;
}

interface Entry {
  completed: CompletedWork;
  resolve: (ok: boolean) => void;
}

/**
 * Exactly-once delivery (SPEC §5): the emits and dead-letter copies of finished dispatches and the
 * source offsets they allow are written in one Kafka transaction. Transactions run one at a time;
 * the dispatches that finish while one commits share the next, so each dispatch's results are in
 * exactly one committed transaction, together with offsets that cover them. A read_committed
 * consumer sees a result only if the offset past its record was committed with it.
 */
export class TransactionalSink implements RecordSink {
  #producer: Producer;
  #queue: Entry[] = [];
  #dirty = false;
  #running: Promise<void> | undefined;
  #failed = false;
  /** Between a rejoin and the new assignment no transaction starts (see beforeRejoin). */
  #held = false;

  constructor(private readonly options: TransactionalSinkOptions) {
    this.#producer = this.#createProducer();
  }

  #createProducer(): Producer {
    return this.options.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      // On a cluster of several brokers the transaction after a commit is often refused with
      // CONCURRENT_TRANSACTIONS for a few ms while the previous one's markers are written; the Java
      // producer retries that after 20 ms. kafkajs' client-wide 100 ms doubling held exactly-once to
      // 150-300 records/s on three brokers.
      retry: { retries: 10, initialRetryTime: 20, maxRetryTime: 2_000 },
    });
  }

  async start(): Promise<void> {
    await this.#initialize();
  }

  /**
   * Beginning a transaction initializes the transactional id with a new epoch: this fences a dead
   * predecessor and makes the coordinator finish its open transaction (and the offsets in it) before
   * this worker's consumer reads the committed offsets. Aborting an empty transaction sends nothing.
   */
  async #initialize(): Promise<void> {
    await this.#producer.connect();
    const transaction = await this.#producer.transaction();
    await transaction.abort();
  }

  /**
   * After a failed transaction the partitions' sequence numbers may be held by a batch the broker wrote
   * before the failure (and the abort then discarded): the same epoch would have its next batch dropped
   * as a duplicate of that one, records acknowledged and never written. A new producer takes a new epoch,
   * whose sequences start again, as the Java producer does (KIP-360).
   */
  async #renewEpoch(): Promise<void> {
    await this.#producer.disconnect().catch(() => undefined);
    this.#producer = this.#createProducer();
    await this.#initialize();
  }

  complete(completed: CompletedWork): Promise<boolean> {
    if (this.#failed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#queue.push({ completed, resolve });
      this.#kick();
    });
  }

  requestCommit(): void {
    this.#dirty = true;
    this.#kick();
  }

  async flush(): Promise<void> {
    this.#dirty = true;
    this.#kick();
    while (this.#running) await this.#running;
  }

  /**
   * Why: kafkajs' TxnOffsetCommit carries no group generation, so the broker takes a transaction's
   * offsets even from a member whose partition moved on. A dispatch that finishes while the group
   * rebalances would commit its outputs and offsets after the partition's next owner read the older
   * offsets, and that owner would run its records again: duplicates in read_committed output (the
   * scaling test saw a batch of 100 twice). So the transaction in flight and what finished up to now
   * commit before the rejoin, and the rest waits for the assignment, where a lost partition's
   * dispatches are dropped (their records run again at the next owner, their outputs never written).
   */
  async beforeRejoin(): Promise<void> {
    this.#held = true;
    while (this.#running) await this.#running;
    if (this.#failed) return;
    this.#dirty = true;
    await this.#run(true);
  }

  assignmentKnown(): void {
    this.#held = false;
    this.#kick();
  }

  async stop(): Promise<void> {
    while (this.#running) await this.#running;
    // Held by a rebalance that the stop cut short: the dispatches left run again at the partitions' next owner.
    for (const entry of this.#queue.splice(0)) entry.resolve(false);
    await this.#producer.disconnect();
  }

  #kick(): void {
    if (this.#running || this.#failed || this.#held) return;
    void this.#run(false);
  }

  /** Starts draining; the caller made sure nothing drains now. */
  #run(whileHeld: boolean): Promise<void> {
    this.#running = this.#drain(whileHeld).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Commits until nothing is left; `beforeRejoin` goes on while held, anything else stops at the hold. */
  async #drain(whileHeld: boolean): Promise<void> {
    while (!this.#failed && (whileHeld || !this.#held) && (this.#queue.length > 0 || this.#dirty)) {
      const entries = this.#queue.splice(0);
      this.#dirty = false;
      await this.#commitTransaction(entries);
    }
  }

  async #commitTransaction(entries: Entry[]): Promise<void> {
    const live = entries.filter((e) => !e.completed.work.revoked);
    for (const entry of entries) if (entry.completed.work.revoked) entry.resolve(false);
    // Marked before the transaction so that its offsets cover these records; nothing else commits
    // in this mode, and if the transaction never commits the worker restarts from the last one that did.
    for (const { completed } of live) for (const record of completed.finished) completed.work.markDone(record);

    for (let attempt = 1; ; attempt += 1) {
      const current = live.filter((e) => !e.completed.work.revoked);
      const messages = mergeTopicMessages(current.map((e) => e.completed.messages));
      const offsets = offsetsToCommit(this.options.works);
      if (messages.length === 0 && offsets.length === 0) break;
      let transaction: Transaction | undefined;
      // Set once the commit is asked for: a failure from then on leaves the outcome unknown.
      let committing = false;
      try {
        transaction = await this.#producer.transaction();
        if (messages.length > 0) await transaction.sendBatch({ acks: -1, topicMessages: messages });
        if (offsets.length > 0) await transaction.sendOffsets({ consumerGroupId: this.options.groupId, topics: offsets });
        committing = true;
        await transaction.commit();
        markCommitted(this.options.works, offsets);
        break;
      } catch (error) {
        if (!committing) await transaction?.abort().catch(() => undefined);
        const context = { function: this.options.functionName, transactionalId: this.options.transactionalId, attempt };
        if (isFenced(error) || attempt >= MAX_TRANSACTION_ATTEMPTS) {
          this.#fail(entries, isFenced(error)
            ? dispatcherError("EDDY_DISPATCH_FENCED", "another worker took over this replica's transactional id", context, error)
            : dispatcherError("EDDY_DISPATCH_TRANSACTION_FAILED", `a transaction failed ${attempt} times`, context, error));
          return;
        }
        log.warn({ ...context, err: error }, "transaction failed; aborted, retrying with a new epoch");
        await sleep(100 * 2 ** attempt);
        try {
          await this.#renewEpoch();
          // The new epoch made the coordinator finish the old transaction: committed if the commit had
          // reached it, aborted otherwise. Its offsets tell which; sending it again would write it twice.
          if (committing && offsets.length > 0 && (await this.#committedAlready(offsets))) {
            markCommitted(this.options.works, offsets);
            break;
          }
        } catch (renewError) {
          // The next attempt begins its transaction on the new producer, which initializes it then.
          log.warn({ ...context, err: renewError }, "a new epoch could not be taken yet; retrying");
        }
      }
    }
    for (const entry of live) entry.resolve(!entry.completed.work.revoked);
  }

  /** Whether the group's committed offsets have reached `offsets` (a transaction whose commit answer was lost did commit). */
  async #committedAlready(offsets: ReturnType<typeof offsetsToCommit>): Promise<boolean> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId: this.options.groupId, topics: offsets.map((o) => o.topic) });
      const at = new Map(committed.flatMap(({ topic, partitions }) => partitions.map((p) => [`${topic}\u0000${p.partition}`, BigInt(p.offset)] as const)));
      return offsets.every(({ topic, partitions }) => partitions.every((p) => (at.get(`${topic}\u0000${p.partition}`) ?? -1n) >= BigInt(p.offset)));
    } finally {
      await admin.disconnect();
    }
  }

  #fail(entries: Entry[], error: Error): void {
    this.#failed = true;
    for (const entry of [...entries, ...this.#queue.splice(0)]) entry.resolve(false);
    this.options.onFatal(error);
  }
}
