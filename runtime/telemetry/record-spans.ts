import {
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type Tracer,
} from "@opentelemetry/api";
import type { FetchSpan, SandboxRecord, SandboxTrace, SerializedError, TraceIds } from "../sandbox/function-sandbox.js";

/** Which function, version and consumer group an invocation belongs to. */
export interface FunctionIdentity {
  name: string;
  version: number;
  groupId: string;
}

/** Anything produced to Kafka: its headers carry the context of the span that produced it. */
export interface TracedMessage {
  headers: Record<string, string>;
}

/** Exceptions recorded on one span at most: a failed batch of 500 records must not make a 500-event span. */
const MAX_RECORDED_ERRORS = 10;

/** The trace context a record carries in its headers (W3C `traceparent`, `tracestate`), or the root context. */
export function recordContext(record: Pick<SandboxRecord, "headers">): Context {
  return record.headers.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, record.headers);
}

/** Puts `ctx`'s span context into the message's headers, replacing any it carried. */
function inject(ctx: Context, message: TracedMessage): void {
  const headers = { ...message.headers };
  delete headers.traceparent;
  delete headers.tracestate;
  propagation.inject(ctx, headers);
  message.headers = headers;
}

function messagingAttributes(operation: "process" | "send", topic: string): Attributes {
  return { "messaging.system": "kafka", "messaging.operation.type": operation, "messaging.operation.name": operation, "messaging.destination.name": topic };
}

/**
 * Starts the `send <topic>` span (PRODUCER) of one produce and puts its context into every message,
 * so that a consumer downstream continues the trace.
 */
export function startSendSpan(tracer: Tracer, parent: Context, topic: string, messages: TracedMessage[], links?: Link[]): Span {
  const span = tracer.startSpan(
    `send ${topic}`,
    { kind: SpanKind.PRODUCER, attributes: { ...messagingAttributes("send", topic), "messaging.batch.message_count": messages.length }, links },
    parent,
  );
  const ctx = trace.setSpan(parent, span);
  for (const message of messages) inject(ctx, message);
  return span;
}

/**
 * The dead-letter write of one record, in the record's own trace (after its failed attempts), linked
 * to the invocation that gave up on it.
 */
export function startDeadLetterSpan(tracer: Tracer, record: SandboxRecord, topic: string, message: TracedMessage, invocation?: SpanContext): Span {
  const span = startSendSpan(tracer, recordContext(record), topic, [message], invocation ? [{ context: invocation }] : undefined);
  span.setAttribute("eddy.dead_letter.source", `${record.topic}/${record.partition}@${record.offset}`);
  return span;
}

/** Ends spans of a write: an error when the write was given up. */
export function endSpans(spans: readonly Span[], error?: string): void {
  for (const span of spans) {
    if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
    span.end();
  }
}

/**
 * The `process <topic>` span (CONSUMER) of one invocation, after OpenTelemetry's messaging
 * conventions for Kafka. One record: a child of the record's `traceparent`. Several: a new trace
 * with a link to each record's context (added after the sampler's decision, which therefore does not see them). It is also the sandbox's view of the trace: log lines carry
 * its ids and each ctx.fetch gets a client span under it.
 */
export class InvocationSpan implements SandboxTrace {
  readonly span: Span;
  readonly context: Context;

  constructor(
    private readonly tracer: Tracer,
    fn: FunctionIdentity,
    records: readonly SandboxRecord[],
    attempt: number,
  ) {
    const first = records[0]!;
    const attributes: Attributes = {
      ...messagingAttributes("process", first.topic),
      "messaging.destination.partition.id": String(first.partition),
      "messaging.consumer.group.name": fn.groupId,
      "faas.trigger": "pubsub",
      "faas.name": fn.name,
      "faas.version": String(fn.version),
      "eddy.attempt": attempt,
    };
    let parent = ROOT_CONTEXT;
    if (records.length === 1) {
      attributes["messaging.kafka.offset"] = Number(first.offset);
      if (first.key !== null) attributes["messaging.kafka.message.key"] = first.key;
      parent = recordContext(first);
    } else {
      attributes["messaging.batch.message_count"] = records.length;
    }
    this.span = tracer.startSpan(`process ${first.topic}`, { kind: SpanKind.CONSUMER, attributes }, parent);
    this.context = trace.setSpan(parent, this.span);
    // The links are read only for a span the sampler kept: at 10 % the other 90 % of batches parse no header.
    if (records.length > 1 && this.span.isRecording()) {
      const links: Link[] = [];
      for (const record of records) {
        if (record.headers.traceparent === undefined) continue;
        const context = trace.getSpanContext(recordContext(record));
        if (context !== undefined) links.push({ context });
      }
      if (links.length > 0) this.span.addLinks(links);
    }
  }

  get ids(): TraceIds {
    const { traceId, spanId } = this.span.spanContext();
    return { traceId, spanId };
  }

  startFetch(method: string, url: string): FetchSpan {
    const target = URL.canParse(url) ? new URL(url) : undefined;
    const attributes: Attributes = { "http.request.method": method, "url.full": url };
    if (target !== undefined) {
      attributes["server.address"] = target.hostname;
      attributes["server.port"] = Number(target.port || (target.protocol === "https:" ? 443 : 80));
    }
    const span = this.tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes }, this.context);
    const headers: Record<string, string> = {};
    propagation.inject(trace.setSpan(this.context, span), headers);
    return {
      headers,
      end({ status, error }) {
        if (status !== undefined) span.setAttribute("http.response.status_code", status);
        if (error !== undefined) {
          span.setAttribute("error.type", "fetch_failed");
          span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        } else if (status !== undefined && status >= 400) {
          span.setAttribute("error.type", String(status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  }

  /** The `send` spans of the invocation's emits, one per topic, their context put into the messages. */
  sendEmits(writes: readonly { topic: string; messages: TracedMessage[] }[]): Span[] {
    return writes.map(({ topic, messages }) => startSendSpan(this.tracer, this.context, topic, messages));
  }

  /** Ends the span; failed records make it an error, with their errors recorded. */
  end(failures: readonly SerializedError[]): void {
    if (failures.length > 0) {
      this.span.setAttribute("eddy.records.failed", failures.length);
      const first = failures[0]!;
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: `${first.name}: ${first.message}` });
      for (const error of failures.slice(0, MAX_RECORDED_ERRORS)) {
        this.span.recordException({ name: error.name, message: error.message, stack: error.stack });
      }
    }
    this.span.end();
  }
}
