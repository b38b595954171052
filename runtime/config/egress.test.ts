import { describe, expect, it } from "vitest";
import { parseEgressEntry } from "./egress.js";
import { parseFunctionConfig } from "./function-config.js";

describe("egress entries", () => {
  it.each([
    ["api.example.com", { hostname: "api.example.com", port: null }],
    ["API.Example.com:8443", { hostname: "api.example.com", port: 8443 }],
    ["127.0.0.1:8080", { hostname: "127.0.0.1", port: 8080 }],
    ["0x7f.1", { hostname: "127.0.0.1", port: null }],
    ["[::1]:9000", { hostname: "[::1]", port: 9000 }],
  ])("parses %s the way a fetched URL's host is normalized", (entry, rule) => {
    expect(parseEgressEntry(entry)).toEqual(rule);
  });

  it.each(["https://api.example.com", "api.example.com/path", "*.example.com", "user@host", "host:0", "host:70000", "", "::1"])("rejects %j", (entry) => {
    expect(parseEgressEntry(entry)).toHaveProperty("problem");
  });

  it("is checked at deploy, naming the entry", () => {
    const result = parseFunctionConfig({ name: "f", topics: ["t"], egress: ["ok.example.com", "https://bad.example.com"] });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toEqual([
        { path: "egress.1", message: expect.stringMatching(/^expected host or host:port .*"https:\/\/bad\.example\.com"/) as unknown as string },
      ]);
    }
  });
});
