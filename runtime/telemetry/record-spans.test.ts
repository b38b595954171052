import { propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SandboxRecord } from "../sandbox/function-sandbox.js";
import { InvocationSpan, recordContext, startDeadLetterSpan, startSendSpan } from "./record-spans.js";

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer("test");
const fn = { name: "orders", version: 3, groupId: "eddy.orders" };
const UPSTREAM = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
const upstreamHeader = `00-${UPSTREAM.traceId}-${UPSTREAM.spanId}-01`;

function record(offset: number, headers: Record<string, string> = {}): SandboxRecord {
  return { topic: "orders", partition: 2, offset: String(offset), timestamp: 0, key: `k${offset}`, value: null, headers };
}

describe("record spans", () => {
  beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  afterAll(() => propagation.disable());
  beforeEach(() => exporter.reset());

  it("makes one record's invocation a CONSUMER child of its traceparent, with the messaging attributes", () => {
    const span = new InvocationSpan(tracer, fn, [record(41, { traceparent: upstreamHeader })], 2);
    span.end([]);
    const [done] = exporter.getFinishedSpans();
    expect(done!.name).toBe("process orders");
    expect(done!.kind).toBe(SpanKind.CONSUMER);
    expect(done!.spanContext().traceId).toBe(UPSTREAM.traceId);
    expect(done!.parentSpanContext?.spanId).toBe(UPSTREAM.spanId);
    expect(done!.attributes).toMatchObject({
      "messaging.system": "kafka",
      "messaging.operation.type": "process",
      "messaging.destination.name": "orders",
      "messaging.destination.partition.id": "2",
      "messaging.consumer.group.name": "eddy.orders",
      "messaging.kafka.offset": 41,
      "messaging.kafka.message.key": "k41",
      "faas.name": "orders",
      "faas.version": "3",
      "eddy.attempt": 2,
    });
    expect(span.ids).toEqual({ traceId: UPSTREAM.traceId, spanId: done!.spanContext().spanId });
  });

  it("starts a trace of its own for several records, linked to those that carry a context", () => {
    const span = new InvocationSpan(tracer, fn, [record(1, { traceparent: upstreamHeader }), record(2), record(3, { traceparent: "garbage" })], 1);
    span.end([]);
    const [done] = exporter.getFinishedSpans();
    expect(done!.spanContext().traceId).not.toBe(UPSTREAM.traceId);
    expect(done!.parentSpanContext).toBeUndefined();
    expect(done!.links.map((l) => l.context.spanId)).toEqual([UPSTREAM.spanId]);
    expect(done!.attributes["messaging.batch.message_count"]).toBe(3);
  });

  it("marks an invocation with failed records as an error and records at most 10 exceptions", () => {
    const span = new InvocationSpan(tracer, fn, [record(1)], 1);
    span.end(Array.from({ length: 12 }, (_, i) => ({ name: "TypeError", message: `bad ${i}`, retriable: true })));
    const [done] = exporter.getFinishedSpans();
    expect(done!.status).toEqual({ code: SpanStatusCode.ERROR, message: "TypeError: bad 0" });
    expect(done!.events.filter((e) => e.name === "exception")).toHaveLength(10);
    expect(done!.attributes["eddy.records.failed"]).toBe(12);
  });

  it("puts the send span's context into every message, replacing what the function set", () => {
    const invocation = new InvocationSpan(tracer, fn, [record(1, { traceparent: upstreamHeader })], 1);
    const messages = [{ headers: { traceparent: "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01", a: "1" } }, { headers: {} as Record<string, string> }];
    const [send] = invocation.sendEmits([{ topic: "shipments", messages }]);
    send!.end();
    invocation.end([]);
    const sent = exporter.getFinishedSpans().find((s) => s.name === "send shipments")!;
    expect(sent.kind).toBe(SpanKind.PRODUCER);
    expect(sent.parentSpanContext?.spanId).toBe(invocation.ids.spanId);
    for (const message of messages) {
      expect(message.headers.traceparent).toBe(`00-${UPSTREAM.traceId}-${sent.spanContext().spanId}-01`);
    }
    expect(messages[0]!.headers.a).toBe("1");
  });

  it("writes a dead-letter copy in its record's own trace, linked to the invocation", () => {
    const invocation = new InvocationSpan(tracer, fn, [record(1), record(2, { traceparent: upstreamHeader })], 1);
    const message = { headers: { "eddy-dlt-reason": "x" } as Record<string, string> };
    startDeadLetterSpan(tracer, record(2, { traceparent: upstreamHeader }), "orders.dlt", message, invocation.span.spanContext()).end();
    const written = exporter.getFinishedSpans().find((s) => s.name === "send orders.dlt")!;
    expect(written.parentSpanContext?.spanId).toBe(UPSTREAM.spanId);
    expect(written.links[0]?.context.spanId).toBe(invocation.ids.spanId);
    expect(message.headers.traceparent).toContain(UPSTREAM.traceId);
  });

  it("gives each ctx.fetch a client span whose context goes out in the request headers", () => {
    const invocation = new InvocationSpan(tracer, fn, [record(1, { traceparent: upstreamHeader })], 1);
    const fetch = invocation.startFetch("POST", "https://api.example.com/charge");
    fetch.end({ status: 503 });
    const client = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(client.name).toBe("POST");
    expect(fetch.headers.traceparent).toBe(`00-${UPSTREAM.traceId}-${client.spanContext().spanId}-01`);
    expect(client.attributes).toMatchObject({ "server.address": "api.example.com", "server.port": 443, "http.response.status_code": 503 });
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("reads no context from a record without a traceparent", () => {
    expect(trace.getSpanContext(recordContext(record(1)))).toBeUndefined();
    const link = startSendSpan(tracer, recordContext(record(1)), "t", []);
    link.end();
    expect(exporter.getFinishedSpans()[0]!.parentSpanContext).toBeUndefined();
  });
});
