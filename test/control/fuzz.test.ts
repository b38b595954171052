import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "undici-types";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { MalformedRequests, routesOf, type FuzzRequest } from "./fuzz-requests.js";
import { echo } from "./sources.js";

/** Fixed, so that every run sends the same requests; EDDY_FUZZ_SEED=<n> tries others. */
const SEED = Number(process.env.EDDY_FUZZ_SEED ?? 20_251_010);
const REQUESTS = 3_000;
/** Not an assertion: past this no new request is sent, and the report says how many were. */
const BUDGET_MS = 90_000;
const TARGET = "fz-target";

/**
 * Node 20 runs fetch on the undici it bundles but does not export; the class of fetch's global dispatcher
 * is that undici's Agent. With one connection per origin every request goes over the same keep-alive
 * connection, as a CLI's would, and an answer that leaves it unusable shows as a failed request or as a
 * close the server chose.
 */
async function oneConnection(url: string): Promise<{ agent: Agent; connects: () => number; closes: { code: string; message: string; during: number }[]; at: { index: number } }> {
  await fetch(`${url}/healthz`).then((r) => r.text()); // creates the global dispatcher
  const global = (globalThis as Record<symbol, unknown>)[Symbol.for("undici.globalDispatcher.1")] as Agent;
  const AgentClass = global.constructor as new (options: object) => Agent;
  const agent = new AgentClass({ connections: 1, pipelining: 1 });
  let connects = 0;
  const closes: { code: string; message: string; during: number }[] = [];
  const at = { index: -1 };
  agent.on("connect", () => connects++);
  agent.on("disconnect", (_origin, _targets, error) => {
    const e = error as Error & { code?: string };
    closes.push({ code: e.code ?? "?", message: e.message, during: at.index });
  });
  return { agent, connects: () => connects, closes, at };
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

async function send(url: string, agent: Agent, request: Pick<FuzzRequest, "method" | "target" | "headers" | "body">): Promise<Answer> {
  const body = typeof request.body === "function" ? request.body() : request.body;
  const response = await fetch(`${url}${request.target}`, {
    method: request.method,
    headers: request.headers,
    body,
    redirect: "manual",
    signal: AbortSignal.timeout(30_000),
    ...({ dispatcher: agent, duplex: "half" } as object),
  });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text };
}

/** What is wrong with a 4xx answer, or null: it must be `{ error: { code, message, details? } }` as JSON. */
function errorShapeProblem(answer: Answer): string | null {
  if (!answer.contentType.startsWith("application/json")) return `content-type ${answer.contentType}`;
  let body: any;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return "a body that is not JSON";
  }
  const keys = Object.keys(body ?? {});
  if (keys.length !== 1 || keys[0] !== "error") return `top-level keys ${keys.join(",")}`;
  const { code, message, details, ...rest } = body.error ?? {};
  if (typeof code !== "string" || !/^EDDY_[A-Z_]+$/.test(code)) return `code ${code}`;
  if (typeof message !== "string" || message.length === 0) return "no message";
  if (Object.keys(rest).length > 0) return `unknown error keys ${Object.keys(rest).join(",")}`;
  if (details !== undefined && (!Array.isArray(details) || details.some((d) => typeof d?.path !== "string" || typeof d?.message !== "string"))) return "malformed details";
  return null;
}

describe("the API under malformed requests, on the real broker", () => {
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-fuzz"), EDDY_TOPIC_PREFIX: "fz." });
    // One deployed function, so that every route has a real target.
    expect((await eddy.api("POST", "/v1/functions", { source: echo(TARGET, "fz-in", "fz-out", "fz") })).status).toBe(201);
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("answers a dry run whose event value nests 5,000 levels deep with a 400 naming events.0.value", async () => {
    const deep = `${"[".repeat(5_000)}${"]".repeat(5_000)}`;
    const response = await fetch(`${eddy.url}/v1/functions/${TARGET}/invoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${eddy.token}`, "content-type": "application/json" },
      body: `{"events":[{"value":"fine"},{"value":${deep}}]}`,
    });
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { code: string; details: { path: string; message: string }[] } };
    expect(answer.error.code).toBe("EDDY_BAD_REQUEST");
    expect(answer.error.details).toEqual([{ path: "events.1.value", message: "expected JSON nested at most 64 levels deep" }]);
  });

  it("keeps a keep-alive connection usable after answering without needing a 200 KB body", async () => {
    const { agent, connects, closes } = await oneConnection(eddy.url);
    const auth = { authorization: `Bearer ${eddy.token}` };
    const big = JSON.stringify({ source: "x".repeat(200 * 1024) });
    const early = [
      { method: "POST", target: "/v1/functions", headers: { ...auth, "content-type": "text/plain" }, body: big, status: 415 },
      { method: "POST", target: "/v1/functions/Bad_Name/invoke", headers: { ...auth, "content-type": "application/json" }, body: big, status: 400 },
      { method: "POST", target: "/v1/nothing", headers: { ...auth, "content-type": "application/json" }, body: big, status: 404 },
      { method: "POST", target: "/v1/functions", headers: { "content-type": "application/json" }, body: big, status: 401 },
    ];
    for (const request of early) {
      expect((await send(eddy.url, agent, request)).status).toBe(request.status);
      // @hono/node-server gave up on an unread body 500 ms after the answer and closed the connection.
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect((await send(eddy.url, agent, { method: "GET", target: "/v1/functions", headers: auth })).status).toBe(200);
    }
    expect(closes).toEqual([]);
    expect(connects()).toBe(1);
    await agent.close();
  });

  it(`answers ${REQUESTS} malformed requests over every route with 4xx errors in the error shape, on one keep-alive connection`, async () => {
    const document = await eddy.api("GET", "/v1/openapi.json");
    const routes = routesOf(document.body);
    const generator = new MalformedRequests(routes, { token: eddy.token, target: TARGET, seed: SEED });
    const { agent, connects, closes, at } = await oneConnection(eddy.url);
    console.log(`[fuzz] seed ${SEED} (EDDY_FUZZ_SEED=${SEED} repeats this run), ${routes.length} routes`);

    const failures: string[] = [];
    const log = new Map<number, string>();
    const statuses = new Map<number, number>();
    const covered = new Set<string>();
    const started = Date.now();
    let sent = 0;
    for (let index = 0; index < REQUESTS && Date.now() - started < BUDGET_MS; index++) {
      const request = generator.next(index);
      at.index = index;
      const label = () => `#${index} ${request.method} ${request.target.slice(0, 120)} [${request.what.join("; ")}]`;
      let answer: Answer;
      try {
        answer = await send(eddy.url, agent, request);
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        failures.push(`${label()}: no answer (${cause?.code ?? ""} ${cause?.message ?? (error as Error).message})`);
        continue;
      } finally {
        sent++;
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      log.set(index, `${answer.status} ${label()}`);
      covered.add(request.route);
      const problem =
        answer.status >= 500
          ? `status ${answer.status}`
          : answer.status >= 400
            ? errorShapeProblem(answer)
            : null;
      if (problem) failures.push(`${label()}: ${problem}: ${answer.text.slice(0, 200)}`);
      else if (request.expect && answer.status !== request.expect.status) failures.push(`${label()}: status ${answer.status}, expected ${request.expect.status}: ${answer.text.slice(0, 200)}`);
      else if (request.expect?.field !== undefined) {
        const field = request.expect.field;
        const paths: string[] = JSON.parse(answer.text).error.details?.map((d: { path: string }) => d.path) ?? [];
        if (!paths.some((p) => p === field || (field !== "(body)" && p.startsWith(`${field}.`)))) failures.push(`${label()}: details name ${paths.join(", ")}, expected ${field}`);
      }
    }
    // Past @hono/node-server's 500 ms drain timer, so that a close it would still make is seen.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const seconds = (Date.now() - started) / 1000;
    // undici closes a connection itself (UND_ERR_INFO) where its rules say so: after a body sent with DELETE or
    // OPTIONS, an answer that came while it was still sending, or `Connection: close`. Any other close is the
    // server dropping a connection it had kept alive, which a request racing it sees as "other side closed".
    for (const close of closes.filter((c) => c.code !== "UND_ERR_INFO")) {
      failures.push(`the server closed the connection around #${close.during} (${log.get(close.during - 1)}): ${close.code} ${close.message}`);
    }
    const last = await send(eddy.url, agent, { method: "GET", target: `/v1/functions/${TARGET}`, headers: { authorization: `Bearer ${eddy.token}` } });
    await agent.close();

    const figures = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(" ");
    console.log(`[fuzz] ${sent} requests in ${seconds.toFixed(1)} s over ${connects()} connection(s); ${figures}; ${covered.size} routes aimed at`);
    expect(failures.slice(0, 20), `seed ${SEED}: ${failures.length} failures`).toEqual([]);
    expect(routes.map((r) => `${r.method} ${r.path}`).filter((r) => !covered.has(r))).toEqual([]);
    // Nothing got through: the function is as deployed, and no answer was a logged 500.
    expect(last.status).toBe(200);
    expect(JSON.parse(last.text)).toMatchObject({ name: TARGET, version: 1 });
    expect(eddy.logs).not.toContain("request failed");
  });
});
