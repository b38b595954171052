import type { Tracer } from "@opentelemetry/api";
import { PartitionAssigners, type Admin, type Consumer, type EachBatchPayload, type Kafka } from "kafkajs";
import { deadLetterTopic } from "../config/dead-letter-topic.js";
import type { FunctionRecord } from "../config/function-record.js";
import { evictBeforeJoin } from "../kafka/evict-members.js";
import { beforeGroupRejoin } from "../kafka/rejoin-hook.js";
import { ensureTopics } from "../kafka/topics.js";
import { log } from "../log.js";
import type { FunctionSandbox } from "../sandbox/function-sandbox.js";
import { AtLeastOnceSink } from "./at-least-once-sink.js";
import { CircuitBreaker, type CircuitChange, type CircuitState } from "./circuit-breaker.js";
import type { CrashSuspects, FlightLog } from "./crash-suspects.js";
import { dispatcherError } from "./errors.js";
import { FlowControl } from "./flow-control.js";
import { Invoker } from "./invoker.js";
import { toSandboxRecord } from "./kafka-records.js";
import { PartitionWork, type CrashEvidence } from "./partition-work.js";
import { sleep, type RecordSink } from "./record-sink.js";
import { Scheduler } from "./scheduler.js";
import type { StatsRecorder } from "./stats.js";
import { stuckAfterMs, type ForcedDeadLetter, type RecordPosition, type StuckRecord } from "./stuck-records.js";
import { TransactionalSink } from "./transactional-sink.js";
import { CoPartitionAssigner } from "../state/co-partition-assigner.js";
import { ensureStateTopic, stateTopic } from "../state/changelog.js";
import { StateRestorer } from "../state/state-restorer.js";
import { StateStore, type StoreStatus } from "../state/state-store.js";
import type { FunctionStateHome } from "../state/state-writes.js";

/** A stateful function's state in this replica, and what restores its partitions. */
type ReplicaState = FunctionStateHome & { restorer: StateRestorer };

export interface DispatcherOptions {
  kafka: Kafka;
  record: FunctionRecord;
  groupId: string;
  sandbox: FunctionSandbox;
  stats: StatsRecorder;
  /** This replica's index among the function's replicas: part of its stable transactional id. */
  replica?: number;
  onCircuitChange?: (change: CircuitChange) => void;
  /** Set when tracing is on (runtime/telemetry/start-tracing.ts). */
  tracer?: Tracer;
  /** The dispatcher cannot go on (fenced producer, consumer stopped for good): the worker must exit and be restarted. */
  onFatal: (error: Error) => void;
  /** Records in flight at the function's earlier worker crashes: run in small invocations, or dead-lettered (crash-suspects.ts). */
  suspects?: CrashSuspects;
  /** Told before each invocation enters the isolate and when it is out, for crash blame. */
  flight?: FlightLog;
  /** Members of crashed predecessors to remove from the group before joining, so the group need not wait out their sessions. */
  evictMembers?: readonly string[];
  /** The consumer joined the group as `memberId` (after every rebalance). */
  onJoin?: (memberId: string) => void;
}

const FLUSH_TIMEOUT_MS = 5_000;
const IDLE_FETCH_WAIT_MS = 500;
const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * One member of a function's consumer group: kafkajs fetches, the dispatcher schedules.
 *
 * `eachBatch` only hands the fetched records to the partition's `PartitionWork` and returns; the
 * `Scheduler` runs them through the sandbox (`Invoker`), the sink makes results durable and commits
 * the contiguous watermark of finished records. Nothing ever sleeps inside kafkajs' loop, so
 * heartbeats go on while invocations run, retries wait or the breaker is open; waiting is a
 * pause of the partition's fetch (`FlowControl`).
 */
export class Dispatcher {
  readonly #consumer: Consumer;
  readonly #sink: RecordSink;
  #removeRejoinHook: (() => void) | undefined;
  readonly #breaker: CircuitBreaker;
  readonly #scheduler: Scheduler;
  readonly #flow: FlowControl;
  /** Partitions assigned now. */
  readonly #works = new Map<string, PartitionWork>();
  /** Revoked partitions whose invocations are still finishing. */
  readonly #retiring = new Map<string, PartitionWork>();
  readonly #dlt: string | null;
  /** What every partition knows of crashes (none without suspects: the fetch path then never looks). */
  readonly #crashes: CrashEvidence | undefined;
  #stopping = false;
  /** start() in progress or done: stop() lets a join in flight finish before leaving (see stop). */
  #started: Promise<void> | undefined;
  readonly #sessionTimeoutMs: number;
  /** The function's state and its restores, when its definition has `state`. */
  readonly #state: ReplicaState | undefined;

  constructor(private readonly options: DispatcherOptions) {
    const { record, kafka, groupId } = options;
    const { config } = record;
    // Invocations no longer hold up heartbeats, but the session still outlasts the longest one (SPEC §3 timeoutMs).
    const sessionTimeout = Math.max(10_000, config.timeoutMs + 5_000);
    this.#sessionTimeoutMs = sessionTimeout;
    this.#consumer = kafka.consumer({
      groupId,
      // A topic deleted under the function must not come back empty by a metadata request of ours
      // (the broker's auto.create.topics.enable is on by default): it is reported in the status instead.
      allowAutoTopicCreation: false,
      sessionTimeout,
      rebalanceTimeout: sessionTimeout,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 4)),
      // How long the broker holds a fetch open when there is nothing to read. It answers as soon as
      // a record arrives, so a long wait costs no latency and spares an idle worker from polling
      // (at 50 ms an idle worker spent ~4 % of a core on it). What it delays is a resumed partition
      // when every other one is idle (kafkajs adds it to the next fetch, or sleeps this long when all
      // are paused): after a retry's backoff or an open breaker, rarely under load.
      maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
      retry: { retries: 10 },
      // A stateful function's partition p of every topic shares changelog partition p: one member owns them all.
      ...(config.state !== undefined && { partitionAssigners: [CoPartitionAssigner, PartitionAssigners.roundRobin] }),
    });
    if (config.state !== undefined) {
      const store = new StateStore(config.state.maxBytes);
      const topic = stateTopic(record.name);
      const restorer = new StateRestorer({
        kafka,
        topic,
        store,
        functionName: record.name,
        wanted: (partition) => this.#restoringPartitions().has(partition),
        restored: (partition) => this.#restored(partition),
        onFatal: options.onFatal,
      });
      this.#state = { store, topic, restorer };
    }
    this.#dlt = deadLetterTopic(config);
    this.#crashes = options.suspects && { suspects: options.suspects, canDeadLetter: this.#dlt !== null };
    this.#breaker = new CircuitBreaker(config.circuitBreaker, { onChange: (change) => this.#onCircuitChange(change) });
    const works = () => this.#works.values();
    this.#sink =
      config.delivery === "exactly-once"
        ? new TransactionalSink({
            kafka,
            groupId,
            transactionalId: `eddy-tx.${groupId}.${options.replica ?? 0}`,
            functionName: record.name,
            works,
            onFatal: options.onFatal,
          })
        : new AtLeastOnceSink({ kafka, consumer: this.#consumer, functionName: record.name, works, ensureTopics: (t) => this.#ensureTopics(t) });
    this.#flow = new FlowControl(this.#consumer);
    const invoker = new Invoker({
      record,
      groupId,
      sandbox: options.sandbox,
      stats: options.stats,
      breaker: this.#breaker,
      sink: this.#sink,
      deadLetterTopic: this.#dlt,
      tracer: options.tracer,
      flight: options.flight,
      state: this.#state,
    });
    this.#scheduler = new Scheduler({
      config,
      handler: record.handler,
      breaker: this.#breaker,
      invoker,
      flow: this.#flow,
      works: () => [...this.#works.values()],
      functionName: record.name,
    });
  }

  /** The replica's circuit breaker state (SPEC §5). */
  circuit(): CircuitState {
    return this.#breaker.state();
  }

  /** What this replica holds of the function's state, when it keeps state. */
  stateStatus(): StoreStatus | undefined {
    const state = this.#state;
    if (state === undefined) return undefined;
    return { keys: state.store.keys, bytes: state.store.bytes, restoring: this.#restoringPartitions().size };
  }

  /** Failed records its partitions have waited behind for a few of the breaker's open periods (stuck-records.ts). */
  stuckRecords(): StuckRecord[] {
    const afterMs = stuckAfterMs(this.options.record.config.circuitBreaker.openMs);
    const now = Date.now();
    return [...this.#works.values()].flatMap((work) => work.stuck(now, afterMs));
  }

  /** An operator's `eddy dead-letter`: the failed record goes to the dead-letter topic with its last error, breaker or not. */
  deadLetterNow(position: RecordPosition): ForcedDeadLetter {
    const work = this.#works.get(keyOf(position.topic, position.partition));
    if (work === undefined || this.#dlt === null) return "absent";
    const result = work.forceDeadLetter(position.offset);
    log.warn({ function: this.options.record.name, ...position, result }, "an operator asked for this record to be dead-lettered");
    if (result === "queued") this.#scheduler.pump();
    return result;
  }

  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const { config } = this.options.record;
    const consumer = this.#consumer;
    // Side by side, all before joining: the dead-letter topic exists before anything is dead-lettered,
    // and the transactional sink finishes a dead predecessor's transaction before offsets are read.
    await Promise.all([
      this.#dlt !== null ? this.#ensureTopics([this.#dlt]) : undefined,
      this.#state !== undefined ? this.#withAdmin((admin) => ensureStateTopic(admin, this.options.record.name, config.topics)) : undefined,
      this.#sink.start(),
      consumer.connect(),
    ]);
    await consumer.subscribe({ topics: config.topics, fromBeginning: config.startFrom === "earliest" });
    // Exactly-once: a transaction of records this replica is about to lose must be committed before it
    // rejoins, or their next owner reads the offsets from before it and runs them again (rejoin-hook.ts).
    if (config.delivery === "exactly-once") this.#removeRejoinHook = beforeGroupRejoin(this.options.groupId, () => this.#sink.beforeRejoin(), FLUSH_TIMEOUT_MS);
    if (this.options.evictMembers?.length) evictBeforeJoin(this.options.groupId, this.options.evictMembers);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.options.onJoin?.(payload.memberId);
      this.#onAssignment(payload.memberAssignment);
    });
    consumer.on(consumer.events.REBALANCING, () => this.#onRebalancing());
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => this.#onBatchEnd(payload));
    consumer.on(consumer.events.CRASH, ({ payload }) => this.#onCrash(payload.error, payload.restart));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.#intake(payload),
    });
  }

  /**
   * Drains (SIGTERM, redeploy): nothing new starts and fetching stops, invocations in flight finish
   * and their results are written, the finished watermark is committed, then the replica leaves
   * the group. Records waiting for a retry stay uncommitted and are redelivered.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#scheduler.halt();
    const { timeoutMs } = this.options.record.config;
    await Promise.race([this.#scheduler.whenIdle(), sleep(timeoutMs + 2_000)]);
    await Promise.race([this.#sink.flush(), sleep(FLUSH_TIMEOUT_MS)]).catch(() => undefined);
    for (const work of this.#works.values()) work.revoke();
    // Stopped while start() still joins (its control plane killed, a redeploy right after a spawn): kafkajs'
    // disconnect sends LeaveGroup only once its runner has joined, yet the JoinGroup already sent makes the
    // broker keep a member that never heartbeats, and the group's next rebalance waits out its session
    // (up to timeoutMs + 5 s). So a join in flight finishes first (at most a session), then the replica leaves.
    await Promise.race([this.#started?.catch(() => undefined), sleep(this.#sessionTimeoutMs)]);
    await this.#consumer.disconnect().catch((error: unknown) => log.warn({ err: error }, "leaving the consumer group failed"));
    this.#removeRejoinHook?.();
    await this.#state?.restorer.stop();
    await this.#sink.stop().catch((error: unknown) => log.warn({ err: error }, "closing the producer failed"));
  }

  /** kafkajs' eachBatch: hands the records over and returns at once. Never throws (kafkajs would restart the consumer). */
  async #intake(payload: EachBatchPayload): Promise<void> {
    try {
      const { batch } = payload;
      const work = this.#works.get(keyOf(batch.topic, batch.partition));
      // Not resolved: whoever owns the partition next fetches these records again.
      if (work === undefined || work.revoked || this.#stopping) return;
      const records = batch.messages.map((m) => toSandboxRecord(batch.topic, batch.partition, m));
      const lastOffset = batch.lastOffset();
      // At the end of the log a partial batch has nothing more to wait for (batch.maxWaitMs is "at most").
      const caughtUp = BigInt(batch.highWatermark) <= BigInt(lastOffset) + 1n;
      work.accept(records, BigInt(lastOffset), Date.now(), caughtUp);
      // The fetch position moves on; the commit position is the tracker's, and only the sink moves it.
      payload.resolveOffset(lastOffset);
      this.#scheduler.pump();
    } catch (error) {
      log.error({ err: error, function: this.options.record.name }, "taking over a fetched batch failed");
    }
  }

  #onAssignment(assignment: Record<string, number[]>): void {
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) for (const p of partitions) assigned.add(keyOf(topic, p));
    const revoked: string[] = [];
    for (const [key, work] of this.#works) {
      if (assigned.has(key)) continue;
      this.#retire(key, work);
      revoked.push(`${work.topic}/${work.partition}`);
    }
    for (const [key, old] of this.#retiring) if (old.inFlight === 0) this.#retiring.delete(key);
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = keyOf(topic, partition);
        if (this.#works.has(key)) continue;
        const work = new PartitionWork(topic, partition, this.options.record.config.ordering, this.#crashes);
        work.heldBy = this.#retiring.get(key);
        // Nothing of a stateful partition runs before its state is restored from the changelog.
        if (this.#state !== undefined && !this.#state.store.has(partition)) work.restoring = true;
        this.#works.set(key, work);
      }
    }
    if (this.#state !== undefined) this.#followAssignment(this.#state);
    log.info({ function: this.options.record.name, assigned: [...this.#works.values()].map((w) => `${w.topic}/${w.partition}`), revoked }, "partitions assigned");
    this.#sink.assignmentKnown();
    this.#flow.reset(this.#works.values());
    if (!this.#stopping) this.#scheduler.resume();
  }

  /**
   * The group rebalances (eager protocol: every partition may move). Nothing new starts until the
   * new assignment is known, and what finished is committed while the group still accepts it.
   * Partitions kept afterwards go on from where they were; the refetch of their records is ignored.
   */
  #onRebalancing(): void {
    this.#scheduler.halt();
    this.#sink.flush().catch(() => undefined);
  }

  /** kafkajs restarts a crashed consumer by leaving and rejoining: treat it as losing every partition. */
  #onCrash(error: Error, restart: boolean): void {
    this.#scheduler.halt();
    for (const [key, work] of [...this.#works]) this.#retire(key, work);
    this.#sink.assignmentKnown();
    if (!restart && !this.#stopping) {
      this.options.onFatal(dispatcherError("EDDY_DISPATCH_CONSUMER_CRASHED", `the consumer stopped: ${error.message}`, { function: this.options.record.name }, error));
    }
  }

  /** Batches kafkajs resolves without handing them over (only transaction markers): the watermark moves past them. */
  #onBatchEnd(payload: { topic: string; partition: number; batchSize: number; lastOffset: string }): void {
    if (payload.batchSize !== 0) return;
    const work = this.#works.get(keyOf(payload.topic, payload.partition));
    if (work === undefined || work.revoked) return;
    work.tracker.extendTo(BigInt(payload.lastOffset));
    this.#sink.requestCommit();
  }

  /** State partitions no topic's partition needs any more are dropped; newly needed ones are restored. */
  #followAssignment(state: ReplicaState): void {
    const owned = new Set([...this.#works.values()].map((w) => w.partition));
    for (const partition of state.store.partitions()) if (!owned.has(partition)) state.store.drop(partition);
    const missing = this.#restoringPartitions();
    if (missing.size > 0) state.restorer.restore([...missing]);
  }

  /** Partition numbers whose state is being restored (one per number, whatever the topics). */
  #restoringPartitions(): Set<number> {
    const partitions = new Set<number>();
    for (const work of this.#works.values()) if (work.restoring) partitions.add(work.partition);
    return partitions;
  }

  /** A partition's state is in the store: its records may run. */
  #restored(partition: number): void {
    for (const work of this.#works.values()) if (work.partition === partition) work.restoring = false;
    this.#scheduler.pump();
  }

  #retire(key: string, work: PartitionWork): void {
    work.revoke();
    this.#works.delete(key);
    if (work.inFlight > 0) this.#retiring.set(key, work);
  }

  #onCircuitChange(change: CircuitChange): void {
    const context = { function: this.options.record.name, circuit: change.state, ...(change.openMs === undefined ? {} : { openMs: change.openMs }) };
    if (change.state === "open") log.warn(context, "circuit breaker open: the replica's partitions are paused");
    else log.info(context, change.state === "closed" ? "circuit breaker closed" : "circuit breaker half-open: probing");
    this.options.onCircuitChange?.(change);
    this.#scheduler?.applyFlow();
  }

  async #ensureTopics(topics: string[]): Promise<void> {
    await this.#withAdmin((admin) => ensureTopics(admin, topics));
  }

  async #withAdmin<T>(use: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      return await use(admin);
    } finally {
      await admin.disconnect();
    }
  }
}
