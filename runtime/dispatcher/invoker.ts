import type { Span, SpanContext, Tracer } from "@opentelemetry/api";
import type { FunctionRecord } from "../config/function-record.js";
import { log } from "../log.js";
import { invocationOrder, type FunctionSandbox, type InvocationOrder } from "../sandbox/function-sandbox.js";
import type { CircuitBreaker, CircuitPermit } from "./circuit-breaker.js";
import type { FlightLog } from "./crash-suspects.js";
import { deadLetterMessage } from "./dead-letter.js";
import { emittedMessages, groupByTopic, type TopicMessages } from "./kafka-records.js";
import { interpretOutcomes } from "./outcomes.js";
import type { Dispatch, PendingRecord, Settlement } from "./partition-work.js";
import type { RecordSink } from "./record-sink.js";
import { decideAfterFailure } from "./retry-policy.js";
import type { StatsRecorder } from "./stats.js";
import { endSpans, InvocationSpan, startDeadLetterSpan, type FunctionIdentity } from "../telemetry/record-spans.js";
import { applyStateWrites, type FunctionStateHome } from "../state/state-writes.js";

export interface InvokerOptions {
  record: FunctionRecord;
  groupId: string;
  sandbox: FunctionSandbox;
  stats: StatsRecorder;
  breaker: CircuitBreaker;
  sink: RecordSink;
  /** The dead-letter topic, or null when the function never dead-letters. */
  deadLetterTopic: string | null;
  /** Set when tracing is on: a span per invocation, per write and per ctx.fetch. Off, nothing of it runs. */
  tracer?: Tracer;
  /** Told which records enter the isolate and when they are out (crash blame); absent, nothing is told. */
  flight?: FlightLog;
  /** The function's state (ctx.state), when its definition has `state`. */
  state?: FunctionStateHome;
}

/**
 * Runs one dispatch: invokes the sandbox, sorts the outcomes, decides retry or dead-letter for
 * each failure, hands results to the sink and says what became of every record. Never throws for
 * anything the function does.
 */
export class Invoker {
  /** Records that succeeded in this replica: a record that first failed at count n has evidence of health once it is above n. */
  #successes = 0;

  /** With "key" and "none", `handle` runs a batch's lanes concurrently in the isolate (SPEC §3 ordering). */
  readonly #order: InvocationOrder;

  /** Who the invocation spans belong to, made once rather than per invocation. */
  readonly #identity: FunctionIdentity;

  constructor(private readonly options: InvokerOptions) {
    this.#identity = { name: options.record.name, version: options.record.version, groupId: options.groupId };
    const { ordering } = options.record.config;
    this.#order = invocationOrder(ordering);
  }

  /** Resolves undefined when the partition was lost before the results were written. */
  async run(dispatch: Dispatch, permit: CircuitPermit | undefined): Promise<Settlement | undefined> {
    if (dispatch.deadLetterOnly) return this.#deadLetterHeld(dispatch);
    const { record: fn, sandbox, stats, breaker } = this.options;
    const { records } = dispatch;
    const successesAtStart = this.#successes;
    const inputs = records.map((r) => r.record);
    const { tracer } = this.options;
    const span = tracer && new InvocationSpan(tracer, this.#identity, inputs, dispatch.attempt);
    const flight = this.options.flight;
    const flightId = flight?.started(dispatch.work.topic, dispatch.work.partition, records.map((r) => r.offset));
    let result: Awaited<ReturnType<FunctionSandbox["invoke"]>>;
    try {
      result = await sandbox.invoke(inputs, {
        attempt: dispatch.attempt,
        timeoutMs: fn.config.timeoutMs,
        stopOnFailure: true,
        order: this.#order,
        trace: span,
        state: this.options.state?.store.reader(dispatch.work.partition),
      });
    } finally {
      if (flightId !== undefined) flight!.finished(flightId);
    }
    // Before the outcomes are read: a write the store has no room for fails its record. A partition lost
    // meanwhile takes none: its records run again wherever it went, and if it came back here, its state
    // was restored afresh and must not get this invocation's writes on top.
    const stateMessages = this.options.state === undefined || dispatch.work.revoked ? [] : applyStateWrites(this.options.state, dispatch.work.partition, result);
    stats.recordInvocation(result.durationMs);
    const outcome = interpretOutcomes(records, result, fn.handler, this.#order !== "sequential" && records.length > 1);

    // Evidence of health for a failure is a success that finished while the failing attempt ran,
    // or later: other invocations' (they ran beside it), and this one's own beside it. Its lane's
    // earlier records, which succeeded before it began, are not.
    this.#successes += outcome.succeeded.length;
    const markOf = (record: PendingRecord) => successesAtStart + outcome.successesBefore(record);
    // A record cut short beside another's failure ran too: successes from here on are evidence for it,
    // so one that later fails alone (a hang, after its neighbours all succeeded) can still be dead-lettered.
    for (const record of outcome.cutShort) record.evidenceMark ??= markOf(record);
    if (permit !== undefined) breaker.record(permit, outcome.verdict);
    const breakerOpen = breaker.state() === "open";

    const retry: PendingRecord[] = [];
    const held: PendingRecord[] = [];
    const deadLetters: PendingRecord[] = [];
    let delayMs = 0;
    for (const { record, error } of outcome.failed) {
      record.failedAttempts += 1;
      record.firstFailedAt ??= Date.now();
      record.evidenceMark ??= markOf(record);
      record.lastError = error;
      const decision = decideAfterFailure({
        failedAttempts: record.failedAttempts,
        error,
        maxAttempts: fn.config.retry.maxAttempts,
        backoff: fn.config.retry.backoff,
        deadLetterEnabled: this.options.deadLetterTopic !== null,
        healthy: this.#successes > record.evidenceMark,
      });
      const ids = span?.ids;
      log.warn(
        {
          function: fn.name,
          topic: record.record.topic,
          partition: record.record.partition,
          offset: record.record.offset,
          attempt: record.failedAttempts,
          error,
          next: decision.action,
          ...(ids && { trace_id: ids.traceId, span_id: ids.spanId }),
        },
        "invocation failed",
      );
      if (decision.action === "retry") {
        retry.push(record);
        delayMs = Math.max(delayMs, decision.delayMs);
      } else if (breakerOpen) {
        // An open breaker dead-letters nothing: the record waits and is written once it half-opens.
        held.push(record);
      } else {
        deadLetters.push(record);
      }
    }

    const finished = [...outcome.succeeded, ...deadLetters];
    const emits = emittedMessages(result.emitted);
    const writeSpans = span?.sendEmits(emits) ?? [];
    const messages = [...emits, ...stateMessages, ...this.#deadLetterMessages(deadLetters, writeSpans, span?.span.spanContext())];
    span?.end(outcome.failed.map((f) => f.error));
    if (finished.length > 0 || messages.length > 0) {
      const written = await this.options.sink.complete({ work: dispatch.work, finished, messages });
      endSpans(writeSpans, written ? undefined : "the partition was reassigned before the write; the records are redelivered");
      if (!written) return undefined;
    }
    stats.add({ processed: outcome.succeeded.length, failed: outcome.failed.length, retried: retry.length, deadLettered: deadLetters.length });
    this.#logDeadLettered(deadLetters);
    return {
      finished,
      retry: [
        { records: retry, dueAt: Date.now() + delayMs, deadLetterOnly: false },
        { records: held, dueAt: 0, deadLetterOnly: true },
      ],
      requeue: outcome.requeue,
    };
  }

  async #deadLetterHeld(dispatch: Dispatch): Promise<Settlement | undefined> {
    const { records, work } = dispatch;
    const writeSpans: Span[] = [];
    const written = await this.options.sink.complete({ work, finished: records, messages: this.#deadLetterMessages(records, writeSpans) });
    endSpans(writeSpans, written ? undefined : "the partition was reassigned before the write; the records are redelivered");
    if (!written) return undefined;
    // A quarantined record is dead-lettered, not invoked: the crash ledger learns it is done as if an invocation had finished.
    const suspects = records.filter((r) => r.crash !== undefined);
    const flight = this.options.flight;
    if (flight !== undefined && suspects.length > 0) flight.finished(flight.started(work.topic, work.partition, suspects.map((r) => r.offset)));
    this.options.stats.add({ deadLettered: records.length });
    this.#logDeadLettered(records);
    return { finished: records, retry: [], requeue: [] };
  }

  /** With tracing, each dead-letter copy gets a span in its record's trace (added to `spans`), linked to `invocation`. */
  #deadLetterMessages(records: PendingRecord[], spans: Span[], invocation?: SpanContext): TopicMessages[] {
    const topic = this.options.deadLetterTopic;
    if (topic === null || records.length === 0) return [];
    const { record: fn, groupId } = this.options;
    const source = { functionName: fn.name, functionVersion: fn.version, consumerGroup: groupId };
    return groupByTopic(
      records.map((r) => {
        const message = deadLetterMessage(r.record, r.lastError ?? { name: "Error", message: "unknown failure", retriable: true }, r.failedAttempts, source);
        if (this.options.tracer) spans.push(startDeadLetterSpan(this.options.tracer, r.record, topic, message, invocation));
        return { topic, message };
      }),
    );
  }



  #logDeadLettered(records: PendingRecord[]): void {
    for (const r of records) {
      log.warn(
        { function: this.options.record.name, topic: r.record.topic, partition: r.record.partition, offset: r.record.offset, attempts: r.failedAttempts, dlt: this.options.deadLetterTopic },
        "record dead-lettered",
      );
    }
  }
}
