import { createServer, type Server } from "node:http";
import { randomUUID } from "node:crypto";
import type { KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, ensureTopic, eventually, produce, testKafka } from "../helpers/kafka.js";
import { newTraceparent, OtlpReceiver, parseTraceparent, type ReceivedSpan } from "../helpers/otlp-receiver.js";

const CONSUMER = 5;
const PRODUCER = 4;
const CLIENT = 3;
const ERROR = 2;

const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();

/** Calls the test's downstream server, logs, emits; throws for "fail". */
function tracedSource(name: string, topic: string, out: string, downstream: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  startFrom: "earliest",
  egress: [${JSON.stringify(new URL(downstream).host)}],
  retry: { maxAttempts: 2, backoff: { initialMs: 10, maxMs: 20 } },
  async handle(event, ctx) {
    if (event.text() === "fail") throw new Error("this record always fails");
    ctx.log.info("handling " + event.key);
    const answer = await ctx.fetch(${JSON.stringify(`${downstream}/check`)});
    await ctx.emit(${JSON.stringify(out)}, { status: answer.status }, { key: event.key });
  },
});`;
}

function batchSource(name: string, topic: string, out: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  startFrom: "earliest",
  async handleBatch(events, ctx) {
    await ctx.emit(${JSON.stringify(out)}, String(events.length));
  },
});`;
}

describe("OpenTelemetry traces through every record, on the real broker", () => {
  const prefix = `otel-${randomUUID().slice(0, 8)}`;
  // Names unique to the run: the dead-letter topic `<name>.dlt` is not under the prefix.
  const [name, topic, out] = [`traced-${prefix.slice(5)}`, `${prefix}-in`, `${prefix}-out`];
  const [batchName, batchTopic, batchOut] = [`batched-${prefix.slice(5)}`, `${prefix}-batch-in`, `${prefix}-batch-out`];
  let receiver: OtlpReceiver;
  let downstream: Server;
  let downstreamUrl: string;
  const downstreamHeaders: (string | undefined)[] = [];
  let eddy: EddyProcess | undefined;

  /** Waits until the receiver holds a span matching `match` (exports are batched every 100 ms here). */
  const exported = async (match: (span: ReceivedSpan) => boolean, what: string): Promise<ReceivedSpan> => {
    await eventually(async () => receiver.spans.some(match), 30_000, 100);
    const span = receiver.spans.find(match);
    if (span === undefined) throw new Error(`no exported span: ${what}; received ${receiver.spans.map((s) => s.name).join(", ") || "nothing"}`);
    return span;
  };

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    downstream = createServer((request, response) => {
      downstreamHeaders.push(request.headers.traceparent as string | undefined);
      response.writeHead(200).end("ok");
    });
    await new Promise<void>((resolve) => downstream.listen(0, "127.0.0.1", resolve));
    downstreamUrl = `http://127.0.0.1:${(downstream.address() as { port: number }).port}`;
    await Promise.all([ensureTopic(topic), ensureTopic(out), ensureTopic(batchTopic, 1), ensureTopic(batchOut)]);
    eddy = await EddyProcess.start(
      { EDDY_DATA_DIR: await tempDir("eddy-otel"), EDDY_TOPIC_PREFIX: `${prefix}.`, OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_SERVICE_NAME: "" },
      ["--otel", receiver.url],
    );
    const deployed = await eddy.api("POST", "/v1/functions", { source: tracedSource(name, topic, out, downstreamUrl) });
    expect(deployed.status).toBe(201);
  });
  afterAll(async () => {
    await eddy?.stop();
    await receiver?.close();
    await new Promise((resolve) => downstream?.close(resolve));
  });

  it("continues a record's trace: a process span under its traceparent, a fetch span whose context reaches the server, a send span on the emitted record", async () => {
    const upstream = newTraceparent();
    await produce(topic, [{ key: "order-1", value: "ok", headers: { traceparent: upstream.traceparent } }]);
    const [emitted] = await consumeAll(out, 1);

    const processSpan = await exported((s) => s.traceId === upstream.traceId && s.name === `process ${topic}`, "the process span");
    expect(processSpan).toMatchObject({ kind: CONSUMER, parentSpanId: upstream.spanId });
    expect(processSpan.attributes).toMatchObject({
      "messaging.system": "kafka",
      "messaging.operation.type": "process",
      "messaging.destination.name": topic,
      "messaging.consumer.group.name": `${prefix}.${name}`,
      "messaging.kafka.message.key": "order-1",
      "faas.name": name,
      "faas.version": "1",
      "eddy.attempt": 1,
    });
    expect(typeof processSpan.attributes["messaging.destination.partition.id"]).toBe("string");
    expect(typeof processSpan.attributes["messaging.kafka.offset"]).toBe("number");
    expect(processSpan.resource).toMatchObject({ "service.name": "eddy", "faas.name": name });

    // The emitted record names the send span that produced it, in the same trace.
    const carried = parseTraceparent(header(emitted!, "traceparent"));
    expect(carried?.traceId).toBe(upstream.traceId);
    const send = await exported((s) => s.spanId === carried?.spanId, "the span named by the emitted record's traceparent");
    expect(send).toMatchObject({ name: `send ${out}`, kind: PRODUCER, parentSpanId: processSpan.spanId });
    expect(send.attributes).toMatchObject({ "messaging.operation.type": "send", "messaging.destination.name": out });

    // ctx.fetch: a client span under the process span, whose context the server received.
    const sent = downstreamHeaders.map(parseTraceparent).find((p) => p?.traceId === upstream.traceId);
    expect(sent).toBeDefined();
    const fetchSpan = await exported((s) => s.spanId === sent!.spanId, "the fetch's client span");
    expect(fetchSpan).toMatchObject({ name: "GET", kind: CLIENT, parentSpanId: processSpan.spanId });
    expect(fetchSpan.attributes).toMatchObject({ "http.request.method": "GET", "http.response.status_code": 200, "server.address": "127.0.0.1" });

    // The function's log line leads to its trace.
    const { body } = await eddy!.api("GET", `/v1/functions/${name}/logs`);
    expect(body.lines).toContainEqual(expect.objectContaining({ message: "handling order-1", traceId: upstream.traceId, spanId: processSpan.spanId }));
  });

  it("shows a dead-lettered record's failed attempts in its trace, and the dead-letter record continues it", async () => {
    const upstream = newTraceparent();
    // A record of another partition succeeds beside it: the evidence of health that lets the failing one be dead-lettered.
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { partition: 0, key: "order-2", value: "fail", headers: { traceparent: upstream.traceparent } },
        { partition: 1, key: "order-3", value: "ok" },
      ],
    });
    await producer.disconnect();
    const [dead] = await consumeAll(`${name}.dlt`, 1);
    const carried = parseTraceparent(header(dead!, "traceparent"));
    expect(carried?.traceId).toBe(upstream.traceId);

    const write = await exported((s) => s.spanId === carried?.spanId, "the dead-letter write");
    expect(write).toMatchObject({ name: `send ${name}.dlt`, kind: PRODUCER, parentSpanId: upstream.spanId });
    const attempts = receiver.inTrace(upstream.traceId).filter((s) => s.name === `process ${topic}`);
    // maxAttempts is 2; more attempts are made only while no other record has succeeded yet.
    const numbers = attempts.map((s) => Number(s.attributes["eddy.attempt"])).sort((a, b) => a - b);
    expect(numbers.length).toBeGreaterThanOrEqual(2);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    for (const attempt of attempts) {
      expect(attempt.parentSpanId).toBe(upstream.spanId);
      expect(attempt.status).toMatchObject({ code: ERROR, message: "Error: this record always fails" });
      expect(attempt.events).toContainEqual(expect.objectContaining({ name: "exception", attributes: expect.objectContaining({ "exception.message": "this record always fails" }) }));
    }
    // The last attempt is linked from the write, so the two can be found from each other.
    expect(attempts.map((a) => a.spanId)).toContain(write.links[0]?.spanId);
  });

  it("links an invocation of several records to each record's trace", async () => {
    const contexts = [newTraceparent(), newTraceparent(), newTraceparent(), newTraceparent(), newTraceparent()];
    // Produced before the function exists, so that its first fetch holds them all: one handleBatch invocation.
    await produce(batchTopic, contexts.map((c, i) => ({ key: `k${i}`, value: "x", headers: { traceparent: c.traceparent } })));
    expect((await eddy!.api("POST", "/v1/functions", { source: batchSource(batchName, batchTopic, batchOut) })).status).toBe(201);
    const [count] = await consumeAll(batchOut, 1);
    expect(count!.value!.toString()).toBe("5");

    const span = await exported((s) => s.name === `process ${batchTopic}` && s.links.length > 0, "the batch's process span");
    expect(span.kind).toBe(CONSUMER);
    expect(span.attributes["messaging.batch.message_count"]).toBe(5);
    expect(span.links.map((l) => l.traceId).sort()).toEqual(contexts.map((c) => c.traceId).sort());
    // A new trace of its own: none of the records' traces is its parent.
    expect(contexts.map((c) => c.traceId)).not.toContain(span.traceId);
  });

  it("traces deploys in the control plane", async () => {
    const deploy = await exported((s) => s.name === "eddy.deploy" && s.attributes["faas.name"] === batchName, "the deploy span");
    expect(deploy.resource).toMatchObject({ "service.name": "eddy", "eddy.process": "control-plane" });
    expect(receiver.rejected).toEqual([]);
  });
});

describe("without OpenTelemetry configured, on the real broker", () => {
  const prefix = `nootel-${randomUUID().slice(0, 8)}`;
  let receiver: OtlpReceiver;
  let eddy: EddyProcess | undefined;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    await Promise.all([ensureTopic(`${prefix}-in`), ensureTopic(`${prefix}-out`)]);
  });
  afterAll(async () => {
    await eddy?.stop();
    await receiver?.close();
  });

  it.each([
    ["no OTEL_* variable is set", {}],
    // The endpoint names a live receiver, so a span recorded despite the switch would show up there.
    ["OTEL_SDK_DISABLED=true", { OTEL_SDK_DISABLED: "true" }],
  ])("loads no SDK and records no span when %s", async (_case, otel: Record<string, string>) => {
    const env: Record<string, string> = { EDDY_DATA_DIR: await tempDir("eddy-no-otel"), EDDY_TOPIC_PREFIX: `${prefix}.`, ...otel };
    if (otel.OTEL_SDK_DISABLED) env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_TRACES_EXPORTER"]) env[name] ??= "";
    const name = `plain${Object.keys(otel).length}`;
    eddy = await EddyProcess.start(env);
    const source = `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(`${prefix}-in`)}],
  async handle(event, ctx) { ctx.log.info("seen " + event.key); await ctx.emit(${JSON.stringify(`${prefix}-out`)}, event.text(), { key: event.key }); },
});`;
    expect((await eddy.api("POST", "/v1/functions", { source })).status).toBe(201);
    const upstream = newTraceparent();
    await produce(`${prefix}-in`, [{ key: name, value: "v", headers: { traceparent: upstream.traceparent } }]);
    const emitted = (await consumeAll(`${prefix}-out`, 1, { distinctBy: (m) => m.key!.toString() })).find((m) => m.key?.toString() === name);
    expect(header(emitted!, "traceparent")).toBeUndefined();
    const { body } = await eddy.api("GET", `/v1/functions/${name}/logs`);
    const line = body.lines.find((l: { message: string }) => l.message === `seen ${name}`);
    expect(line).toBeDefined();
    expect(line.traceId).toBeUndefined();
    expect(eddy.logs).toMatch(/"tracing":false[^\n]*"msg":"worker ready"/);
    await eddy.stop();
    eddy = undefined;
    expect(receiver.spans).toEqual([]);
  });
});
