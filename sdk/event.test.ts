import { describe, expect, it } from "vitest";
import { createEvent, type EventRecord } from "./event.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

function record(overrides: Partial<EventRecord> = {}): EventRecord {
  return { topic: "orders", partition: 3, offset: "9007199254740993", timestamp: 1_700_000_000_000, key: "k", value: null, headers: { a: "b" }, ...overrides };
}

describe("createEvent", () => {
  it("keeps the record's fields as they came", () => {
    const value = utf8("x");
    const event = createEvent(record({ value }));
    expect(event).toMatchObject({ topic: "orders", partition: 3, offset: "9007199254740993", timestamp: 1_700_000_000_000, key: "k", headers: { a: "b" } });
    expect(event.value).toBe(value);
    expect(event.cloudEvent).toBeUndefined();
  });

  it("decodes the value as UTF-8 text, non-ASCII included", () => {
    expect(createEvent(record({ value: utf8("héllo wörld – 日本 🎉") })).text()).toBe("héllo wörld – 日本 🎉");
  });

  it("replaces invalid UTF-8 bytes instead of throwing", () => {
    expect(createEvent(record({ value: new Uint8Array([0x61, 0xff, 0x62]) })).text()).toBe("a\uFFFDb");
  });

  it("parses the value as JSON", () => {
    const event = createEvent(record({ value: utf8('{"id":"ü-1","n":[1,2]}') }));
    expect(event.json<{ id: string; n: number[] }>()).toEqual({ id: "ü-1", n: [1, 2] });
  });

  it("gives an empty text and a null JSON for a tombstone", () => {
    const event = createEvent(record({ value: null }));
    expect(event.text()).toBe("");
    expect(event.json()).toBeNull();
  });

  it("names the record when the value is not JSON", () => {
    const event = createEvent(record({ value: utf8("not json") }));
    expect(() => event.json()).toThrow(SyntaxError);
    expect(() => event.json()).toThrow(/orders\/3@9007199254740993 is not JSON/);
  });
});
