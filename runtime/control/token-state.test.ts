import { describe, expect, it } from "vitest";
import { routeDocs } from "./app.js";
import { needOf, routeScopes } from "./route-scopes.js";
import { denial, matchesPattern, type Principal } from "./scopes.js";
import { hashToken, TokenState, type TokenRecord } from "./token-state.js";

const record = (id: string, secret: string, extra: Partial<TokenRecord> = {}): TokenRecord => ({
  id,
  name: `token ${id}`,
  scope: "read",
  createdAt: `2025-01-01T00:00:0${id.length % 10}.000Z`,
  sha256: hashToken(secret),
  ...extra,
});
const put = (state: TokenState, r: TokenRecord) => state.apply(r.id, JSON.stringify(r));

describe("the tokens' state, rebuilt from the log", () => {
  it("finds a token by its secret, and not by its hash or anything else", () => {
    const state = new TokenState();
    put(state, record("a1", "secret-a", { scope: "deploy", functions: "team-a-*" }));
    expect(state.principal("secret-a")).toEqual({ id: "a1", name: "token a1", scope: "deploy", functions: "team-a-*" });
    expect(state.principal(hashToken("secret-a"))).toBeUndefined();
    expect(state.principal("secret-b")).toBeUndefined();
    expect(state.principal("")).toBeUndefined();
  });

  it("revokes a token with a tombstone, and a revoked secret stays refused", () => {
    const state = new TokenState();
    put(state, record("a1", "secret-a"));
    state.apply("a1", null);
    expect(state.principal("secret-a")).toBeUndefined();
    expect(state.get("a1")).toBeUndefined();
    expect(state.list()).toEqual([]);
  });

  it("keeps the newest value of a key: a rewritten record replaces the old secret", () => {
    const state = new TokenState();
    put(state, record("a1", "old"));
    put(state, record("a1", "new", { scope: "admin" }));
    expect(state.principal("old")).toBeUndefined();
    expect(state.principal("new")?.scope).toBe("admin");
  });

  it("lists tokens oldest first, without hashes", () => {
    const state = new TokenState();
    put(state, record("b2", "y", { createdAt: "2025-02-01T00:00:00.000Z" }));
    put(state, record("a1", "x", { createdAt: "2025-01-01T00:00:00.000Z" }));
    expect(state.list().map((t) => t.id)).toEqual(["a1", "b2"]);
    expect(JSON.stringify(state.list())).not.toContain(hashToken("x"));
    expect(state.list()[0]).not.toHaveProperty("sha256");
  });

  it.each([
    ["not JSON", "{"],
    ["an unknown scope", JSON.stringify(record("a1", "s", { scope: "root" as never }))],
    ["an id that is not its key", JSON.stringify(record("other", "s"))],
    ["no hash", JSON.stringify({ ...record("a1", "s"), sha256: undefined })],
    ["a hash that is not SHA-256 hex", JSON.stringify(record("a1", "s", { sha256: "s" }))],
    ["a bad function pattern", JSON.stringify(record("a1", "s", { functions: "Team A" }))],
  ])("skips a record with %s: it grants nothing", (_what, value) => {
    const state = new TokenState();
    state.apply("a1", value);
    expect(state.list()).toEqual([]);
    expect(state.principal("s")).toBeUndefined();
  });

  it("hashes with SHA-256, hex", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("scopes", () => {
  const read: Principal = { id: "r", name: "", scope: "read" };
  const deploy: Principal = { id: "d", name: "", scope: "deploy" };
  const teamA: Principal = { id: "a", name: "", scope: "deploy", functions: "team-a-*" };
  const admin: Principal = { id: "x", name: "", scope: "admin" };

  it.each([
    ["team-a-*", "team-a-x", true],
    ["team-a-*", "team-a-", true],
    ["team-a-*", "team-b-x", false],
    ["team-a-*", "xteam-a-x", false],
    ["*-prod", "billing-prod", true],
    ["*-prod", "billing-prod-2", false],
    ["job-?", "job-1", true],
    ["job-?", "job-12", false],
    ["exact", "exact", true],
    ["*", "anything", true],
  ])("pattern %s against %s: %s", (pattern, name, expected) => {
    expect(matchesPattern(pattern, name)).toBe(expected);
  });

  it("orders read < deploy < admin, and names the scope needed and the one held", () => {
    expect(denial(read, { scope: "read" })).toBeNull();
    expect(denial(read, { scope: "deploy", function: "f" })).toBe("this call needs the deploy scope for function 'f'; the token has read");
    expect(denial(deploy, { scope: "deploy", function: "f" })).toBeNull();
    expect(denial(deploy, { scope: "admin" })).toBe("this call needs the admin scope; the token has deploy");
    expect(denial(admin, { scope: "admin" })).toBeNull();
    expect(denial(admin, { scope: "deploy", function: "anything" })).toBeNull();
  });

  it("limits a deploy token's pattern to the functions it changes, not to what it reads", () => {
    expect(denial(teamA, { scope: "deploy", function: "team-a-x" })).toBeNull();
    expect(denial(teamA, { scope: "deploy", function: "team-b-x" })).toBe(
      "this call needs the deploy scope for function 'team-b-x'; the token has deploy for functions matching 'team-a-*'",
    );
    expect(denial(teamA, { scope: "read" })).toBeNull();
    expect(denial(teamA, { scope: "admin" })).toMatch(/needs the admin scope/);
  });
});

describe("the routes' scopes", () => {
  it("name exactly the documented /v1 routes", () => {
    const documented = routeDocs.filter((r) => r.path.startsWith("/v1/")).map((r) => `${r.method} ${r.path}`);
    expect(Object.keys(routeScopes).sort()).toEqual(documented.sort());
  });

  it.each([
    ["GET", "/v1/functions", { scope: "read" }],
    ["HEAD", "/v1/functions/f", { scope: "read" }],
    ["POST", "/v1/functions", { scope: "deploy" }],
    ["POST", "/v1/functions/", { scope: "deploy" }],
    ["POST", "/v1/functions/team-a-x/pause", { scope: "deploy", function: "team-a-x" }],
    ["PUT", "/v1/functions/f%2Dx/secrets/KEY", { scope: "deploy", function: "f-x" }],
    ["DELETE", "/v1/functions/f", { scope: "admin" }],
    ["DELETE", "/v1/tokens/0123456789abcdef", { scope: "admin" }],
    ["GET", "/v1/tokens", { scope: "admin" }],
    ["GET", "/v1/unknown/route", { scope: "read" }],
    ["POST", "/v1/unknown/route", { scope: "admin" }],
    ["PATCH", "/v1/functions/f", { scope: "admin" }],
  ])("%s %s needs %j", (method, path, need) => {
    expect(needOf(method, path)).toEqual(need);
  });
});
