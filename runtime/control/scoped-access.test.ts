import { beforeAll, describe, expect, it } from "vitest";
import { parseFunctionConfig } from "../config/function-config.js";
import type { FunctionRecord } from "../config/function-record.js";
import { createApp } from "./app.js";
import type { FunctionService } from "./function-service.js";
import { LogBook } from "./log-book.js";
import { matchesPattern, scopeRank, type Scope } from "./scopes.js";
import { TokenStore } from "./token-store.js";

const ADMIN_TOKEN = "admin-t0ken-for-tests";
const NAMES = ["team-a-x", "team-b-x"] as const;

function recordOf(name: string): FunctionRecord {
  const parsed = parseFunctionConfig({ name, topics: ["orders"] });
  if (!parsed.ok) throw new Error("fixture config");
  return {
    name,
    version: 1,
    config: parsed.config,
    handler: "handle",
    code: "/* bundle */",
    secrets: { keyId: "k", entries: { API_KEY: { sealed: "s", mac: "m" } } },
    digest: "d1",
    deployedAt: "2025-01-01T00:00:00.000Z",
  };
}

/**
 * Two deployed functions held in memory, every operation answering at once. Only what a call may do is
 * under test here; `writes` records every operation that would change something, so a refused call can
 * be shown to have changed nothing.
 */
function memoryService(): FunctionService & { writes: string[] } {
  const writes: string[] = [];
  const get = (name: string) => (NAMES.includes(name as (typeof NAMES)[number]) ? recordOf(name) : undefined);
  return {
    writes,
    logs: new LogBook(),
    list: () => NAMES.map(recordOf),
    get,
    versions: (name) => (get(name) ? [recordOf(name)] : []),
    isPaused: () => false,
    // The deploy body's source is the function's name here; the real deployer learns it by inspecting the code.
    deploy: async (request) => {
      const name = "source" in request ? request.source : "unknown";
      request.authorize?.(name);
      writes.push(`deploy ${name}`);
      return { record: recordOf(name), changed: true };
    },
    rollback: async (name) => (writes.push(`rollback ${name}`), recordOf(name)),
    remove: async (name) => void writes.push(`remove ${name}`),
    status: async (name) => ({
      ...recordOf(name),
      secrets: ["API_KEY"],
      state: "running" as const,
      replicas: { desired: 1, ready: 1, restarts: 0, nextRestartInMs: null },
      lag: { total: 0, partitions: [] },
      circuit: "closed" as const,
      stats: { processed: 0, failed: 0, retried: 0, deadLettered: 0, p50Ms: 0, p99Ms: 0 },
      scaler: { mode: "stable" as const, lag: 0, arrivalPerSec: 0, drainPerReplicaPerSec: null, decisions: 0, lastChange: null },
    }),
    scale: async (name) => ({ name, desiredReplicas: 1, lag: 0, arrivalPerSec: 0 }),
    changeSecrets: async (name) => (writes.push(`secrets ${name}`), { record: recordOf(name), changed: true }),
    invoke: async (name) => (writes.push(`invoke ${name}`), { ok: true, emitted: [], logs: [], durationMs: 1 }),
    replay: async (name, from) => (writes.push(`replay ${name}`), { name, from, offsets: [], paused: false }),
    redrive: async (name) => {
      writes.push(`redrive ${name}`);
      return { name, state: "running", topic: `${name}.dlt`, version: 1, startedAt: "2025-01-01T00:00:00.000Z", total: 0, done: 0, succeeded: 0, deadLettered: 0 };
    },
    setPaused: async (name, paused) => void writes.push(`${paused ? "pause" : "resume"} ${name}`),
    history: () => ({ intervalMs: 5_000, samples: [], decisions: [] }),
    deadLetters: async () => ({ topic: "known.dlt", records: [] }),
    metrics: async () => ({ contentType: "text/plain; version=0.0.4", text: "# nothing\n" }),
  };
}

interface Caller {
  what: string;
  scope: Scope;
  functions?: string;
  token: string;
}

const tokens = TokenStore.inMemory();
const service = memoryService();
const app = createApp({ service, token: ADMIN_TOKEN, tokens, ready: () => true });
const callers: Caller[] = [];

function call(method: string, path: string, token: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  return app.request(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

type Route = {
  method: string;
  /** The path for a function name (ignored by routes without `:name`). */
  path: (name: string) => string;
  body?: (name: string) => unknown;
  ok: number;
  needs: Scope;
  /** The call changes the function of the path (or of the deploy): a deploy token's pattern applies. */
  perFunction?: boolean;
};

const fn = (rest = "") => (name: string) => `/v1/functions/${name}${rest}`;
/** Every served route (a test in token-state.test.ts ties the policy table to the documented routes). */
const routes: Route[] = [
  { method: "GET", path: () => "/v1/openapi.json", ok: 200, needs: "read" },
  { method: "GET", path: () => "/v1/functions", ok: 200, needs: "read" },
  { method: "POST", path: () => "/v1/functions", body: (name) => ({ source: name }), ok: 201, needs: "deploy", perFunction: true },
  { method: "GET", path: fn(), ok: 200, needs: "read" },
  { method: "GET", path: fn("/scale"), ok: 200, needs: "read" },
  { method: "DELETE", path: fn(), ok: 204, needs: "admin" },
  { method: "GET", path: fn("/versions"), ok: 200, needs: "read" },
  { method: "POST", path: fn("/rollback"), body: () => ({ version: 1 }), ok: 200, needs: "deploy", perFunction: true },
  { method: "POST", path: fn("/invoke"), body: () => ({ events: [{ value: 1 }] }), ok: 200, needs: "deploy", perFunction: true },
  { method: "POST", path: fn("/replay"), body: () => ({ from: "earliest" }), ok: 202, needs: "deploy", perFunction: true },
  { method: "POST", path: fn("/redrive"), ok: 202, needs: "deploy", perFunction: true },
  { method: "POST", path: fn("/pause"), ok: 200, needs: "deploy", perFunction: true },
  { method: "POST", path: fn("/resume"), ok: 200, needs: "deploy", perFunction: true },
  { method: "GET", path: fn("/logs"), ok: 200, needs: "read" },
  { method: "GET", path: fn("/secrets"), ok: 200, needs: "read" },
  { method: "PUT", path: fn("/secrets/API_KEY"), body: () => ({ value: "v" }), ok: 200, needs: "deploy", perFunction: true },
  { method: "DELETE", path: fn("/secrets/API_KEY"), ok: 200, needs: "deploy", perFunction: true },
  { method: "GET", path: () => "/v1/tokens", ok: 200, needs: "admin" },
  { method: "POST", path: () => "/v1/tokens", body: () => ({ scope: "read", name: "made in a test" }), ok: 201, needs: "admin" },
  // The id is filled in per call: a fresh token to revoke.
  { method: "DELETE", path: () => "/v1/tokens/:victim", ok: 204, needs: "admin" },
];

beforeAll(async () => {
  callers.push({ what: "the admin token", scope: "admin", token: ADMIN_TOKEN });
  for (const [what, scope, functions] of [
    ["an admin token", "admin", undefined],
    ["a deploy token", "deploy", undefined],
    ["a deploy token for team-a-*", "deploy", "team-a-*"],
    ["a read token", "read", undefined],
  ] as const) {
    const created = await tokens.create({ scope, name: what, ...(functions ? { functions } : {}) });
    callers.push({ what, scope, ...(functions ? { functions } : {}), token: created.token });
  }
});

/** Each caller against each route, and against each of the two functions where the route names one. */
const cases = routes.flatMap((route) => {
  const names = route.path("NAME").includes("NAME") || route.perFunction ? NAMES : (["-"] as const);
  return names.flatMap((name) =>
    ["the admin token", "an admin token", "a deploy token", "a deploy token for team-a-*", "a read token"].map((who) => ({
      label: `${who}: ${route.method} ${route.path(name)}`,
      route,
      name,
      who,
    })),
  );
});

describe("scoped tokens on every route", () => {
  it("covers every route with every kind of token", () => {
    expect(cases.length).toBeGreaterThan(150);
  });

  it.each(cases)("$label", async ({ route, name, who }) => {
    const caller = callers.find((c) => c.what === who)!;
    const allowed =
      scopeRank(caller.scope) >= scopeRank(route.needs) &&
      (!(route.perFunction && route.needs === "deploy") || caller.functions === undefined || matchesPattern(caller.functions, name));
    let path = route.path(name);
    if (path.includes(":victim")) path = path.replace(":victim", (await tokens.create({ scope: "read", name: "victim" })).id);
    const writesBefore = service.writes.length;

    const response = await call(route.method, path, caller.token, route.body?.(name));

    if (allowed) {
      expect(response.status, await response.clone().text()).toBe(route.ok);
      return;
    }
    expect(response.status).toBe(403);
    const answer = (await response.json()) as { error: { code: string; message: string } };
    expect(answer.error.code).toBe("EDDY_FORBIDDEN");
    // A deploy's function is known only once its code is inspected, which a read token never reaches.
    const nameKnown = route.perFunction && !(route.path(name) === "/v1/functions" && caller.scope === "read");
    const needed = route.needs === "deploy" && nameKnown ? `the deploy scope for function '${name}'` : `the ${route.needs} scope`;
    expect(answer.error.message).toContain(`this call needs ${needed}; the token has ${caller.scope}`);
    expect(service.writes.length).toBe(writesBefore);
  });
});

describe("scoped tokens, case by case", () => {
  const token = (who: string) => callers.find((c) => c.what === who)!.token;

  it("lets a team-a-* deploy token deploy team-a-x, and refuses team-b-x before anything is written", async () => {
    const ok = await call("POST", "/v1/functions", token("a deploy token for team-a-*"), { source: "team-a-x" });
    expect(ok.status).toBe(201);
    const before = service.writes.length;
    const refused = await call("POST", "/v1/functions", token("a deploy token for team-a-*"), { source: "team-b-x" });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
      "this call needs the deploy scope for function 'team-b-x'; the token has deploy for functions matching 'team-a-*'",
    );
    expect(service.writes.length).toBe(before);
  });

  it("lets a team-a-* deploy token read every function", async () => {
    expect((await call("GET", "/v1/functions/team-b-x", token("a deploy token for team-a-*"))).status).toBe(200);
    expect((await call("GET", "/v1/functions/team-b-x/logs", token("a deploy token for team-a-*"))).status).toBe(200);
  });

  it.each([
    ["no token", ""],
    ["an unknown token", "eddy_not-a-token-anyone-made"],
    ["the hash of a real token", "0".repeat(64)],
  ])("answers %s with 401", async (_what, presented) => {
    for (const [method, path] of [["GET", "/v1/functions"], ["POST", "/v1/functions/team-a-x/pause"], ["GET", "/v1/tokens"]] as const) {
      const response = await call(method, path, presented);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("EDDY_UNAUTHORIZED");
    }
  });

  it("creates a token whose secret is shown once, works at once, is listed without it, and is refused once revoked", async () => {
    const created = await call("POST", "/v1/tokens", ADMIN_TOKEN, { scope: "deploy", functions: "team-a-*", name: "ci" });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; token: string; scope: string; functions: string; name: string; createdAt: string };
    expect(body).toMatchObject({ scope: "deploy", functions: "team-a-*", name: "ci" });
    expect(body.token).toMatch(/^eddy_[A-Za-z0-9_-]{43}$/);
    expect((await call("POST", "/v1/functions/team-a-x/pause", body.token)).status).toBe(200);

    const listed = await (await call("GET", "/v1/tokens", ADMIN_TOKEN)).text();
    expect(listed).toContain(body.id);
    expect(listed).not.toContain(body.token);
    expect(listed).not.toMatch(/sha256|[0-9a-f]{64}/);

    expect((await call("DELETE", `/v1/tokens/${body.id}`, ADMIN_TOKEN)).status).toBe(204);
    expect((await call("GET", "/v1/functions", body.token)).status).toBe(401);
    expect((await call("DELETE", `/v1/tokens/${body.id}`, ADMIN_TOKEN)).status).toBe(404);
  });

  it.each([
    ["no scope", {}, "scope"],
    ["an unknown scope", { scope: "root" }, "scope"],
    ["functions on a read token", { scope: "read", functions: "team-a-*" }, "functions"],
    ["functions on an admin token", { scope: "admin", functions: "*" }, "functions"],
    ["a pattern with capitals", { scope: "deploy", functions: "Team-A-*" }, "functions"],
    ["a pattern with a slash", { scope: "deploy", functions: "team/*" }, "functions"],
    ["an empty name", { scope: "read", name: "" }, "name"],
    ["a name that is not text", { scope: "read", name: 1 }, "name"],
    ["an unknown field", { scope: "read", secret: "mine" }, "secret"],
  ])("refuses to create a token with %s, naming the field", async (_what, body, field) => {
    const response = await call("POST", "/v1/tokens", ADMIN_TOKEN, body);
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { details: { path: string }[] } };
    expect(answer.error.details.map((d) => d.path)).toContain(field);
  });

  it("answers a malformed token id with 400 and an unknown one with 404", async () => {
    const bad = await call("DELETE", "/v1/tokens/admin", ADMIN_TOKEN);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path).toBe("id");
    expect((await call("DELETE", "/v1/tokens/0123456789abcdef", ADMIN_TOKEN)).status).toBe(404);
  });

  it("checks the scope after reading the body, and before validating it", async () => {
    // A refused call still has its body read (keep-alive); a read token learns nothing about the body's problems.
    const response = await call("POST", "/v1/functions/team-a-x/replay", token("a read token"), { from: "yesterday" });
    expect(response.status).toBe(403);
  });
});

describe("/metrics", () => {
  it("is open by default", async () => {
    expect((await app.request("/metrics")).status).toBe(200);
  });

  it("needs a token of any scope with EDDY_METRICS_AUTH=token", async () => {
    const guarded = createApp({ service, token: ADMIN_TOKEN, tokens, metricsAuth: "token", ready: () => true });
    const read = callers.find((c) => c.what === "a read token")!.token;
    expect((await guarded.request("/metrics")).status).toBe(401);
    expect((await guarded.request("/metrics", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    expect((await guarded.request("/metrics", { headers: { authorization: `Bearer ${read}` } })).status).toBe(200);
    expect((await guarded.request("/metrics", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    expect((await guarded.request("/healthz")).status).toBe(200);
  });
});
