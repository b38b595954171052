// The web globals SPEC §4 promises inside a function, checked against Node's own implementations.
import { afterEach, describe, expect, it } from "vitest";
import { disposeSandboxes, firstJson, hostile, sandboxFor } from "./sandbox-helpers.js";

afterEach(() => disposeSandboxes());

describe("URL and URLSearchParams", () => {
  const inputs: [string, string?][] = [
    ["https://User:Pa ss@EXAMPLE.com:443/a/./b/../c?x=1&y=%20#frag"],
    ["/relative/path?q", "http://example.com/base/index.html"],
    ["http://[::FFFF:127.0.0.1]:8080/"],
    ["http://0x7f.1/"],
    ["http://xn--nxasmq6b.example/ünïcode?ä=ö"],
    ["file:///etc/passwd"],
    ["mailto:someone@example.com"],
  ];

  it("parse every part exactly as Node's WHATWG parser does", async () => {
    const subject = await sandboxFor(
      hostile(`
        const inputs = ${JSON.stringify(inputs)};
        const parts = inputs.map(([input, base]) => {
          const u = new URL(input, base);
          return [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, String(u), JSON.stringify(u)];
        });
        await ctx.emit("report", { parts, bad: URL.canParse("not a url"), parsed: URL.parse("nope"), error: (() => { try { new URL("::"); } catch (e) { return e.name + ": " + e.message; } })() });`),
    );
    const { parts, bad, parsed, error } = firstJson(await subject.invoke(["url"]));
    expect(parts).toEqual(
      inputs.map(([input, base]) => {
        const u = new URL(input, base);
        return [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, String(u), JSON.stringify(u)];
      }),
    );
    expect({ bad, parsed, error }).toEqual({ bad: false, parsed: null, error: "TypeError: Invalid URL: ::" });
  });

  it("apply setters as the standard says and keep searchParams in step with the URL", async () => {
    const script = `
      const u = new URL("http://example.com/a?x=1");
      u.pathname = "/b c"; u.hash = "h"; u.port = "8080"; u.protocol = "https"; u.hostname = "EXAMPLE.org"; u.username = "me";
      u.searchParams.append("y", "a b&c"); u.searchParams.set("x", "ü");
      const afterParams = u.href;
      u.search = "?z=9";
      const p = new URLSearchParams("a=1&b=2&a=3+4&c=%F0%9F%8E%89");
      p.delete("b"); p.sort();
      const entries = [...p]; const size = p.size;
      return { afterParams, href: u.href, fromSearch: u.searchParams.get("z"), entries, size, all: p.getAll("a"), has: p.has("a", "1"), text: p.toString(),
        fromObject: new URLSearchParams({ k: "v", n: 1 }).toString(), fromPairs: new URLSearchParams([["a", "b"]]).toString(), port: (u.port = "99999", u.port) };`;
    const subject = await sandboxFor(hostile(`await ctx.emit("report", (() => { ${script} })());`));
    const expected = new Function(script)();
    expect(firstJson(await subject.invoke(["url"]))).toEqual(expected);
  });

  it("show up readably in logs", async () => {
    const subject = await sandboxFor(hostile(`console.log(new URL("http://a.example/x?y=1"), new URLSearchParams("q=a b"));`));
    await subject.invoke(["log"]);
    expect(subject.logs).toEqual([{ level: "info", message: 'URL "http://a.example/x?y=1" URLSearchParams "q=a+b"' }]);
  });
});

describe("crypto", () => {
  it("randomUUID gives version 4 UUIDs and getRandomValues fills integer typed arrays", async () => {
    const subject = await sandboxFor(
      hostile(`
        const uuids = Array.from({ length: 200 }, () => crypto.randomUUID());
        const bytes = crypto.getRandomValues(new Uint8Array(4096));
        const words = crypto.getRandomValues(new Uint32Array(8));
        const errors = [];
        try { crypto.getRandomValues(new Float64Array(4)); } catch (e) { errors.push(e.name); }
        try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { errors.push(e.name); }
        await ctx.emit("report", { uuids, distinctBytes: new Set(bytes).size, zeroWords: words.filter((w) => w === 0).length, errors });`),
    );
    const { uuids, distinctBytes, zeroWords, errors } = firstJson(await subject.invoke(["crypto"]));
    expect(new Set(uuids).size).toBe(200);
    for (const uuid of uuids) expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // 4096 random bytes cover nearly all 256 values; a broken source (zeros, a counter) would not.
    expect(distinctBytes).toBeGreaterThan(200);
    expect(zeroWords).toBe(0);
    expect(errors).toEqual(["TypeMismatchError", "QuotaExceededError"]);
  });

  it("two isolates do not share a random stream", async () => {
    const script = hostile(`await ctx.emit("report", crypto.randomUUID());`);
    const [a, b] = await Promise.all([sandboxFor(script), sandboxFor(script)]);
    const [ra, rb] = await Promise.all([a.invoke(["x"]), b.invoke(["x"])]);
    expect(new TextDecoder().decode(ra.emitted[0]!.value!)).not.toBe(new TextDecoder().decode(rb.emitted[0]!.value!));
  });
});
