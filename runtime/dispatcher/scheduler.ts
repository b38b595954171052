import type { FunctionConfig } from "../config/function-config.js";
import { log } from "../log.js";
import type { CircuitBreaker, CircuitPermit } from "./circuit-breaker.js";
import type { FlowControl } from "./flow-control.js";
import type { Invoker } from "./invoker.js";
import type { Dispatch, PartitionWork } from "./partition-work.js";

const BUG_RETRY_MS = 1_000;
const MIN_WINDOW_RECORDS = 20_000;
/** Unfinished value bytes per partition before its fetch pauses. */
const WINDOW_BYTES = 8 * 1024 * 1024;

export interface SchedulerOptions {
  config: FunctionConfig;
  handler: "handle" | "handleBatch";
  breaker: CircuitBreaker;
  invoker: Invoker;
  flow: FlowControl;
  /** The partitions this replica works on now. */
  works: () => PartitionWork[];
  functionName: string;
}

/**
 * Decides what runs next, across the replica's partitions: round-robin over partitions, at most
 * `concurrency` invocations in flight with ordering "key"/"none" (one per partition with
 * "partition"), none while the breaker is open and only its probes while half-open. It runs on
 * events (records arrived, an invocation finished, a timer for a retry, a batch's gathering or
 * the breaker) and never waits itself.
 */
export class Scheduler {
  #inFlight = 0;
  #cursor = 0;
  #halted = false;
  #timer: NodeJS.Timeout | undefined;
  #idle: (() => void)[] = [];
  readonly #window: number;

  constructor(private readonly options: SchedulerOptions) {
    const { batch, ordering, concurrency } = options.config;
    // How many unfinished records a partition may hold before its fetch pauses: several of kafkajs'
    // fetches (up to 1 MiB a partition each, some 6,000 records of 100 bytes), so that the fetch
    // runs ahead of the invocations instead of pausing after every one of them, and enough to keep
    // every allowed invocation busy. WINDOW_BYTES bounds it for large records.
    this.#window = Math.max(MIN_WINDOW_RECORDS, 2 * batch.maxSize * (ordering === "partition" ? 1 : concurrency));
  }

  /** Invocations (and dead-letter writes) in flight. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Starts whatever may start now, then pauses or resumes fetching to match. */
  pump(): void {
    if (this.#halted) return;
    const works = this.options.works();
    // Half-open: probe with records that never failed if there are any, and only then with retries.
    if (this.options.breaker.state() === "half-open") this.#fill(works, true);
    this.#fill(works, false);
    this.#arm(works);
    this.applyFlow();
  }

  #fill(works: PartitionWork[], freshOnly: boolean): void {
    const { config, breaker, handler } = this.options;
    // While crash suspects wait, one invocation at a time: a crash then blames exactly the records of one.
    const careful = works.some((w) => w.suspectsWaiting > 0);
    const limit = careful ? 1 : config.ordering === "partition" ? Number.POSITIVE_INFINITY : config.concurrency;
    let idle = 0;
    while (works.length > 0 && idle < works.length && this.#inFlight < limit) {
      const work = works[this.#cursor++ % works.length]!;
      const dispatch = work.next({
        now: Date.now(),
        maxSize: config.batch.maxSize,
        maxWaitMs: config.batch.maxWaitMs,
        invocationsAllowed: breaker.canInvoke(),
        deadLettersAllowed: breaker.state() !== "open",
        onePerLane: config.ordering === "key" && handler === "handleBatch",
        freshOnly,
      });
      if (dispatch === undefined) {
        idle += 1;
        continue;
      }
      idle = 0;
      this.#launch(dispatch, dispatch.deadLetterOnly ? undefined : breaker.acquire());
    }
  }

  /** Pauses fetching where records must wait, resumes it elsewhere. */
  applyFlow(): void {
    const circuit = this.options.breaker.state();
    this.options.flow.apply(
      this.options.works(),
      // Half-open fetches again, so that a fresh record can be the probe.
      (work) => this.#halted || circuit === "open" || work.waitingForRetry || work.unfinished >= this.#window || work.unfinishedBytes >= WINDOW_BYTES,
    );
  }

  /** Nothing new starts (stop, rebalance); what is in flight finishes. */
  halt(): void {
    this.#halted = true;
    clearTimeout(this.#timer);
    this.applyFlow();
  }

  resume(): void {
    this.#halted = false;
    this.pump();
  }

  /** Resolves once nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #launch(dispatch: Dispatch, permit: CircuitPermit | undefined): void {
    const { work } = dispatch;
    this.#inFlight += 1;
    work.inFlight += 1;
    this.options.invoker
      .run(dispatch, permit)
      .then((settlement) => {
        if (settlement !== undefined) work.settle(dispatch, settlement);
      })
      .catch((error: unknown) => {
        // A bug, not the function's doing: keep the records (uncommitted) and try them again later.
        log.error({ err: error, function: this.options.functionName, topic: work.topic, partition: work.partition }, "dispatch failed unexpectedly");
        work.settle(dispatch, { finished: [], retry: [{ records: dispatch.records, dueAt: Date.now() + BUG_RETRY_MS, deadLetterOnly: false }], requeue: [] });
      })
      .finally(() => {
        this.#inFlight -= 1;
        work.inFlight -= 1;
        if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
        this.pump();
      });
  }

  /** One timer for the earliest moment something waiting may start: a retry, a batch's gathering, the breaker half-opening. */
  #arm(works: PartitionWork[]): void {
    clearTimeout(this.#timer);
    const now = Date.now();
    let at = this.options.breaker.reopensAt();
    for (const work of works) {
      const wake = work.wakeAt();
      // A due retry that could not start waits for the breaker or a free slot, which pump again themselves.
      if (wake !== undefined && wake > now && (at === undefined || wake < at)) at = wake;
    }
    if (at !== undefined) this.#timer = setTimeout(() => this.pump(), Math.max(0, at - now) + 1);
  }
}
