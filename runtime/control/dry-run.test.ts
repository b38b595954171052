import { describe, expect, it } from "vitest";
import { parseFunctionConfig } from "../config/function-config.js";
import { eventBytes, toSandboxRecords } from "./dry-run.js";

describe("invoke events", () => {
  it("turns values into bytes: strings as UTF-8 or base64, anything else as JSON, null as null", () => {
    expect(Buffer.from(eventBytes({ value: "héllo" })!).toString("utf8")).toBe("héllo");
    expect([...eventBytes({ value: "/wD+", encoding: "base64" })!]).toEqual([0xff, 0x00, 0xfe]);
    expect(Buffer.from(eventBytes({ value: { a: [1] } })!).toString("utf8")).toBe('{"a":[1]}');
    expect(eventBytes({ value: null })).toBeNull();
  });

  it("places events on the function's first topic, in order", () => {
    const parsed = parseFunctionConfig({ name: "f", topics: ["orders", "returns"] });
    if (!parsed.ok) throw new Error("fixture");
    const record = { name: "f", version: 1, config: parsed.config, handler: "handle" as const, code: "", digest: "", deployedAt: "" };
    const records = toSandboxRecords(record, [{ value: 1, key: "k" }, { value: 2, topic: "returns", headers: { h: "v" } }], 42);
    expect(records.map((r) => [r.topic, r.offset, r.key, r.timestamp, r.headers])).toEqual([
      ["orders", "0", "k", 42, {}],
      ["returns", "1", null, 42, { h: "v" }],
    ]);
  });

  it("refuses a value JSON.stringify cannot write as the client's mistake, naming the event", () => {
    const parsed = parseFunctionConfig({ name: "f", topics: ["orders"] });
    if (!parsed.ok) throw new Error("fixture");
    const record = { name: "f", version: 1, config: parsed.config, handler: "handle" as const, code: "", digest: "", deployedAt: "" };
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    let thrown: unknown;
    try {
      toSandboxRecords(record, [{ value: 1 }, { value: deep }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "EDDY_BAD_REQUEST", context: { details: [{ path: "events.1.value" }] } });
  });
});
