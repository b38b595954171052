import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { parseFunctionConfig } from "../config/function-config.js";
import type { FunctionRecord } from "../config/function-record.js";
import { createApp, routeDocs } from "./app.js";
import type { FunctionService } from "./function-service.js";
import { LogBook } from "./log-book.js";

const TOKEN = "t0ken-for-tests";
const parsed = parseFunctionConfig({ name: "known", topics: ["orders"] });
if (!parsed.ok) throw new Error("fixture config");
const known: FunctionRecord = {
  name: "known",
  version: 1,
  config: parsed.config,
  handler: "handle",
  code: "/* bundle */",
  digest: "d1",
  deployedAt: "2025-01-01T00:00:00.000Z",
};

/**
 * The routes under test validate requests and shape answers; everything behind them is out of scope here
 * (the lifecycle tests in test/control/ run it on the real broker). So: one deployed function held in
 * memory, a real LogBook, and operations that fail the test if a bad request ever reaches them.
 */
function memoryService(): FunctionService & { calls: string[] } {
  const calls: string[] = [];
  const unexpected = (what: string) => () => {
    calls.push(what);
    throw new Error(`a bad request reached ${what}`);
  };
  return {
    calls,
    logs: new LogBook(),
    list: () => [known],
    get: (name) => (name === known.name ? known : undefined),
    versions: (name) => (name === known.name ? [known] : []),
    isPaused: () => false,
    deploy: unexpected("deploy"),
    rollback: async (_name, version) => (version === 1 ? known : null),
    remove: unexpected("remove"),
    status: async () => ({
      ...known,
      state: "running" as const,
      replicas: { desired: 1, ready: 1, restarts: 0, nextRestartInMs: null },
      lag: { total: 0, partitions: [] },
      circuit: "closed" as const,
      stats: { processed: 0, failed: 0, retried: 0, deadLettered: 0, p50Ms: 0, p99Ms: 0 },
      scaler: { mode: "stable" as const, lag: 0, arrivalPerSec: 0, drainPerReplicaPerSec: null, decisions: 0, lastChange: null },
    }),
    scale: async (name) => ({ name, desiredReplicas: 1, lag: 0, arrivalPerSec: 0 }),
    changeSecrets: unexpected("changeSecrets"),
    invoke: unexpected("invoke"),
    replay: unexpected("replay"),
    redrive: unexpected("redrive"),
    setPaused: unexpected("setPaused"),
    history: () => ({ intervalMs: 5_000, samples: [], decisions: [] }),
    deadLetters: async () => ({ topic: "known.dlt", records: [] }),
    metrics: async () => ({ contentType: "text/plain; version=0.0.4", text: "# nothing\n" }),
  };
}

function request(app: ReturnType<typeof createApp>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
  };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  return app.request(path, init);
}

const deploy = (extra: Record<string, unknown>) => ({ source: "export default 1", ...extra });
const withConfig = (config: Record<string, unknown>) => deploy({ config });
const F = "/v1/functions";
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
const K = `${F}/known`;

// [what, method, path, body, status, field path named in details (or null), extra headers]
const badRequests: [string, string, string, unknown, number, string | null, Record<string, string>?][] = [
  ["no token", "GET", F, undefined, 401, null, { authorization: "" }],
  ["a wrong token", "GET", F, undefined, 401, null, { authorization: "Bearer nope" }],
  ["a token of the right length but wrong", "GET", F, undefined, 401, null, { authorization: `Bearer ${"x".repeat(TOKEN.length)}` }],
  ["another scheme", "GET", F, undefined, 401, null, { authorization: `Basic ${TOKEN}` }],
  ["no code at all", "POST", F, {}, 400, "source"],
  ["source that is not a string", "POST", F, { source: 5 }, 400, "source"],
  ["empty source", "POST", F, { source: "" }, 400, "source"],
  ["both source and bundle", "POST", F, { source: "a", bundle: "b" }, 400, "source"],
  ["files without entry", "POST", F, { files: { "a.ts": "x" } }, 400, "entry"],
  ["a file that is not text", "POST", F, { files: { "a.ts": 1 }, entry: "a.ts" }, 400, "files.a.ts"],
  ["an entry that is not one of files", "POST", F, { files: { "a.ts": "x" }, entry: "b.ts" }, 400, "entry"],
  ["an unknown field", "POST", F, deploy({ extra: 1 }), 400, "extra"],
  ["env that is not strings", "POST", F, deploy({ env: { A: 2 } }), 400, "env.A"],
  ["config that is not an object", "POST", F, deploy({ config: "fast" }), 400, "config"],
  ["a bad function name", "POST", F, withConfig({ name: "Bad_Name" }), 400, "config.name"],
  ["no topics", "POST", F, withConfig({ topics: [] }), 400, "config.topics"],
  ["a bad topic name", "POST", F, withConfig({ topics: ["no spaces"] }), 400, "config.topics.0"],
  ["batch.maxSize 0", "POST", F, withConfig({ batch: { maxSize: 0 } }), 400, "config.batch.maxSize"],
  ["batch.maxSize too large", "POST", F, withConfig({ batch: { maxSize: 10_001 } }), 400, "config.batch.maxSize"],
  ["batch.maxWaitMs negative", "POST", F, withConfig({ batch: { maxWaitMs: -1 } }), 400, "config.batch.maxWaitMs"],
  ["an unknown ordering", "POST", F, withConfig({ ordering: "random" }), 400, "config.ordering"],
  ["concurrency 0", "POST", F, withConfig({ concurrency: 0 }), 400, "config.concurrency"],
  ["retry.maxAttempts 0", "POST", F, withConfig({ retry: { maxAttempts: 0 } }), 400, "config.retry.maxAttempts"],
  ["a backoff multiplier below 1", "POST", F, withConfig({ retry: { backoff: { multiplier: 0.5 } } }), 400, "config.retry.backoff.multiplier"],
  ["an unknown jitter", "POST", F, withConfig({ retry: { backoff: { jitter: "some" } } }), 400, "config.retry.backoff.jitter"],
  ["a bad dead-letter topic", "POST", F, withConfig({ deadLetter: { topic: "bad topic!" } }), 400, "config.deadLetter.topic"],
  ["circuitBreaker.consecutiveFailures 0", "POST", F, withConfig({ circuitBreaker: { consecutiveFailures: 0 } }), 400, "config.circuitBreaker.consecutiveFailures"],
  ["circuitBreaker.openMs as text", "POST", F, withConfig({ circuitBreaker: { openMs: "5s" } }), 400, "config.circuitBreaker.openMs"],
  ["timeoutMs 0", "POST", F, withConfig({ timeoutMs: 0 }), 400, "config.timeoutMs"],
  ["timeoutMs above 5 minutes", "POST", F, withConfig({ timeoutMs: 300_001 }), 400, "config.timeoutMs"],
  ["memoryMb 4", "POST", F, withConfig({ memoryMb: 4 }), 400, "config.memoryMb"],
  ["an unknown startFrom", "POST", F, withConfig({ startFrom: "now" }), 400, "config.startFrom"],
  ["an unknown delivery", "POST", F, withConfig({ delivery: "exactly-twice" }), 400, "config.delivery"],
  ["egress that is not a list", "POST", F, withConfig({ egress: "example.com" }), 400, "config.egress"],
  ["config.env with a number", "POST", F, withConfig({ env: { A: 1 } }), 400, "config.env.A"],
  ["scaling.minReplicas negative", "POST", F, withConfig({ scaling: { minReplicas: -1 } }), 400, "config.scaling.minReplicas"],
  ["scaling.maxReplicas 0", "POST", F, withConfig({ scaling: { maxReplicas: 0 } }), 400, "config.scaling.maxReplicas"],
  ["an unknown config field", "POST", F, withConfig({ batchSize: 10 }), 400, "config.batchSize"],
  ["an unknown nested config field", "POST", F, withConfig({ circuitBreaker: { openMS: 10 } }), 400, "config.circuitBreaker.openMS"],
  ["a body that is not JSON", "POST", F, "{ source: ", 400, "(body)"],
  ["a body that is a list", "POST", F, [], 400, "(body)"],
  ["a text/plain body", "POST", F, "hello", 415, null, { "content-type": "text/plain" }],
  ["a body above 10 MB", "POST", F, deploy({ source: "x".repeat(10 * 1024 * 1024 + 1) }), 413, null],
  ["a bad name in the path", "GET", `${F}/Bad_Name`, undefined, 400, "name"],
  ["a name that is too long", "GET", `${F}/${"a".repeat(64)}`, undefined, 400, "name"],
  ["an unknown function", "GET", `${F}/missing`, undefined, 404, null],
  ["the scale of an unknown function", "GET", `${F}/missing/scale`, undefined, 404, null],
  ["secrets of an unknown function", "GET", `${F}/missing/secrets`, undefined, 404, null],
  ["a secret put without a value", "PUT", `${K}/secrets/API_KEY`, {}, 400, "value"],
  ["a secret put with a number", "PUT", `${K}/secrets/API_KEY`, { value: 42 }, 400, "value"],
  ["a secret put with an unknown field", "PUT", `${K}/secrets/API_KEY`, { value: "v", other: 1 }, 400, "other"],
  ["a secret with a bad name", "PUT", `${K}/secrets/1-bad`, { value: "v" }, 400, "secret"],
  ["removing a secret that does not exist", "DELETE", `${K}/secrets/NOPE`, undefined, 404, "secret"],
  ["a secret on an unknown function", "PUT", `${F}/missing/secrets/API_KEY`, { value: "v" }, 404, null],
  ["secrets in a deploy with a bad name", "POST", F, deploy({ secrets: { "not a name": "v" } }), 400, "secrets.not a name"],
  ["secrets in a deploy that are not strings", "POST", F, deploy({ secrets: { API_KEY: 1 } }), 400, "secrets.API_KEY"],
  ["the scale of a bad name", "GET", `${F}/Bad_Name/scale`, undefined, 400, "name"],
  ["deleteGroup that is not a boolean", "DELETE", `${K}?deleteGroup=yes`, undefined, 400, "query.deleteGroup"],
  ["an unknown query parameter", "DELETE", `${K}?force=true`, undefined, 400, "query.force"],
  ["deleting an unknown function", "DELETE", `${F}/missing`, undefined, 404, null],
  ["rollback without a version", "POST", `${K}/rollback`, {}, 400, "version"],
  ["rollback to version 0", "POST", `${K}/rollback`, { version: 0 }, 400, "version"],
  ["rollback to a version as text", "POST", `${K}/rollback`, { version: "1" }, 400, "version"],
  ["rollback to a version that does not exist", "POST", `${K}/rollback`, { version: 99 }, 404, "version"],
  ["versions of an unknown function", "GET", `${F}/missing/versions`, undefined, 404, null],
  ["invoke without events", "POST", `${K}/invoke`, {}, 400, "events"],
  ["invoke with no event", "POST", `${K}/invoke`, { events: [] }, 400, "events"],
  ["invoke with an event without value", "POST", `${K}/invoke`, { events: [{ key: "k" }] }, 400, "events.0.value"],
  ["invoke with base64 that is not a string", "POST", `${K}/invoke`, { events: [{ value: 1, encoding: "base64" }] }, 400, "events.0.value"],
  ["invoke with a header that is not text", "POST", `${K}/invoke`, { events: [{ value: "x", headers: { a: 1 } }] }, 400, "events.0.headers.a"],
  ["invoke with a key that is a number", "POST", `${K}/invoke`, { events: [{ value: "x", key: 5 }] }, 400, "events.0.key"],
  ["invoke with an unknown event field", "POST", `${K}/invoke`, { events: [{ value: "x", partition: 2 }] }, 400, "events.0.partition"],
  ["invoke with a value nested 65 levels deep", "POST", `${K}/invoke`, `{"events":[{"value":${nested(62)}}]}`, 400, "events.0.value"],
  ["invoke with a value nested 5,000 levels deep", "POST", `${K}/invoke`, `{"events":[{"value":1},{"value":${nested(5_000)}}]}`, 400, "events.1.value"],
  ["a source nested 100,000 levels deep", "POST", F, `{"source":${nested(100_000)}}`, 400, "source"],
  ["a body of 4 MB of brackets", "POST", `${K}/replay`, "[".repeat(4 * 1024 * 1024), 400, "(body)"],
  ["invoke of an unknown function", "POST", `${F}/missing/invoke`, { events: [{ value: 1 }] }, 404, null],
  ["replay without from", "POST", `${K}/replay`, {}, 400, "from"],
  ["replay from a word", "POST", `${K}/replay`, { from: "yesterday" }, 400, "from"],
  ["replay from a number", "POST", `${K}/replay`, { from: 1_700_000_000 }, 400, "from"],
  ["replay to a negative offset", "POST", `${K}/replay`, { from: { orders: { "0": "-1" } } }, 400, "from.orders.0"],
  ["redrive with a body", "POST", `${K}/redrive`, { all: true }, 400, "all"],
  ["pause with a body", "POST", `${K}/pause`, { now: true }, 400, "now"],
  ["pause of an unknown function", "POST", `${F}/missing/pause`, undefined, 404, null],
  ["logs with limit 0", "GET", `${K}/logs?limit=0`, undefined, 400, "query.limit"],
  ["dead letters with limit 0", "GET", `${K}/dead-letters?limit=0`, undefined, 400, "query.limit"],
  ["dead letters with a limit over 100", "GET", `${K}/dead-letters?limit=101`, undefined, 400, "query.limit"],
  ["dead letters with an unknown query field", "GET", `${K}/dead-letters?offset=3`, undefined, 400, "query.offset"],
  ["the history of an unknown function", "GET", `${F}/unknown/history`, undefined, 404, null],
  ["the history of a bad name", "GET", `${F}/Bad_Name/history`, undefined, 400, "name"],
  ["logs with follow=maybe", "GET", `${K}/logs?follow=maybe`, undefined, 400, "query.follow"],
  ["an unknown route", "GET", "/v1/nothing", undefined, 404, null],
  ["an unknown method", "PUT", F, {}, 404, null],
];

describe("the HTTP API's answers to bad requests", () => {
  const service = memoryService();
  const app = createApp({ service, token: TOKEN, ready: () => true });

  it("has at least 30 cases", () => expect(badRequests.length).toBeGreaterThanOrEqual(30));

  it.each(badRequests)("answers %s with the right status and field", async (_what, method, path, body, status, field, headers) => {
    const response = await request(app, method, path, body, headers);
    expect(response.status).toBe(status);
    const answer = (await response.json()) as { error: { code: string; message: string; details?: { path: string; message: string }[] } };
    expect(answer.error.code).toMatch(/^EDDY_/);
    expect(answer.error.message.length).toBeGreaterThan(0);
    if (field !== null) expect(answer.error.details?.map((d) => d.path)).toContain(field);
  });

  it("never let a bad request reach an operation, and still serves afterwards", async () => {
    expect(service.calls).toEqual([]);
    expect((await request(app, "GET", "/healthz")).status).toBe(200);
    const listed = await request(app, "GET", F);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { functions: { name: string }[] }).functions.map((f) => f.name)).toEqual(["known"]);
    expect((await request(app, "GET", K)).status).toBe(200);
  });

  it("answers the dashboard's reads: history, dead letters and who is asking", async () => {
    expect(await (await request(app, "GET", `${K}/history`)).json()).toEqual({ name: "known", intervalMs: 5_000, samples: [], decisions: [] });
    expect(await (await request(app, "GET", `${K}/dead-letters?limit=5`)).json()).toEqual({ name: "known", topic: "known.dlt", records: [] });
    expect(await (await request(app, "GET", "/v1/whoami")).json()).toMatchObject({ scope: "admin", pattern: null });
  });

  it("names every problem of a request at once", async () => {
    const response = await request(app, "POST", F, withConfig({ batch: { maxSize: 0 }, memoryMb: 1, startFrom: "now" }));
    const answer = (await response.json()) as { error: { details: { path: string; message: string }[] } };
    expect(answer.error.details.map((d) => d.path).sort()).toEqual(["config.batch.maxSize", "config.memoryMb", "config.startFrom"]);
    expect(answer.error.details.find((d) => d.path === "config.batch.maxSize")?.message).toBe("expected an integer from 1 to 10000, got 0");
  });

  it("names the first 100 of many problems, and says how many there were", async () => {
    const files = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`f${i}.ts`, i]));
    const response = await request(app, "POST", F, { files, entry: "f0.ts" });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { message: string; details: { path: string }[] } };
    expect(answer.error.details).toHaveLength(100);
    expect(answer.error.details[0]?.path).toBe("files.f0.ts");
    expect(answer.error.message).toContain("(500 problems; the first 100 are named)");
  });

  it("reads a chunked body (no Content-Length) up to 10 MB and refuses a longer one with 413", async () => {
    const chunked = (bytes: number, text = "x") =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let left = bytes; left > 0; left -= 1024 * 1024) controller.enqueue(new TextEncoder().encode(text.repeat(Math.min(left, 1024 * 1024))));
          controller.close();
        },
      });
    const send = (body: ReadableStream<Uint8Array>) =>
      app.request(`${K}/rollback`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body, duplex: "half" } as RequestInit);
    const tooLarge = await send(chunked(10 * 1024 * 1024 + 1));
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe("EDDY_PAYLOAD_TOO_LARGE");
    const small = await send(chunked(1, "{"));
    expect(small.status).toBe(400);
    expect(((await small.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path).toBe("(body)");
  });
});

describe("the OpenAPI document", () => {
  const app = createApp({ service: memoryService(), token: TOKEN, ready: () => true });

  it("is a valid OpenAPI 3.1 document", async () => {
    const response = await request(app, "GET", "/v1/openapi.json");
    expect(response.status).toBe(200);
    const document = await response.json();
    const result = await new Validator().validate(document as object);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("documents exactly the routes the app serves", () => {
    // The dashboard's script and stylesheet are files of the page at `/`, not API routes.
    const served = new Set(app.routes.filter((r) => r.method !== "ALL" && !r.path.startsWith("/dashboard/")).map((r) => `${r.method.toLowerCase()} ${r.path}`));
    const documented = new Set(routeDocs.map((r) => `${r.method} ${r.path}`));
    expect([...served].sort()).toEqual([...documented].sort());
  });

  it("shows the deploy body's configuration fields with their limits", async () => {
    const document = (await (await request(app, "GET", "/v1/openapi.json")).json()) as any;
    const body = document.paths["/v1/functions"].post.requestBody.content["application/json"].schema;
    expect(body.properties.config.properties.batch.properties.maxSize).toMatchObject({ type: "integer", minimum: 1, maximum: 10_000 });
  });
});
