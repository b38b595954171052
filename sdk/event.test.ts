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

describe("event.cloudEvent (CloudEvents Kafka protocol binding)", () => {
  const binaryHeaders = { ce_specversion: "1.0", ce_id: "e-1", ce_source: "/orders", ce_type: "com.example.order.created" };

  it("reads a binary-mode event: attributes from ce_ headers, data from the value by content-type", () => {
    const event = createEvent(
      record({
        headers: { ...binaryHeaders, ce_subject: "o-1", ce_time: "2024-01-01T00:00:00Z", ce_tenant: "acme", "content-type": "application/json" },
        value: utf8('{"id":"o-1","total":42}'),
      }),
    );
    expect(event.cloudEvent).toEqual({
      specversion: "1.0",
      id: "e-1",
      source: "/orders",
      type: "com.example.order.created",
      subject: "o-1",
      time: "2024-01-01T00:00:00Z",
      datacontenttype: "application/json",
      data: { id: "o-1", total: 42 },
      extensions: { tenant: "acme" },
    });
  });

  it("keeps binary-mode data as text for text/* and as bytes otherwise", () => {
    expect(createEvent(record({ headers: { ...binaryHeaders, "content-type": "text/plain; charset=utf-8" }, value: utf8("héllo") })).cloudEvent?.data).toBe("héllo");
    const bytes = new Uint8Array([1, 2, 3]);
    expect(createEvent(record({ headers: binaryHeaders, value: bytes })).cloudEvent?.data).toBe(bytes);
  });

  it("reads a structured-mode event, with data or data_base64 and extensions", () => {
    const json = (body: unknown) =>
      createEvent(record({ headers: { "content-type": "application/cloudevents+json; charset=UTF-8" }, value: utf8(JSON.stringify(body)) })).cloudEvent;
    expect(json({ specversion: "1.0", id: "2", source: "s", type: "t", datacontenttype: "application/json", data: { a: 1 }, traceid: 7 })).toEqual({
      specversion: "1.0",
      id: "2",
      source: "s",
      type: "t",
      datacontenttype: "application/json",
      data: { a: 1 },
      extensions: { traceid: "7" },
    });
    expect(Array.from(json({ specversion: "1.0", id: "3", source: "s", type: "t", data_base64: "AQID" })!.data as Uint8Array)).toEqual([1, 2, 3]);
  });

  it.each([
    ["a plain record", { "content-type": "application/json" }, '{"a":1}'],
    ["binary mode without ce_type", { ce_specversion: "1.0", ce_id: "1", ce_source: "/s" }, "x"],
    ["structured mode that is not JSON", { "content-type": "application/cloudevents+json" }, "{not json"],
    ["structured mode without an id", { "content-type": "application/cloudevents+json" }, '{"specversion":"1.0","source":"s","type":"t"}'],
  ])("is undefined for %s", (_, headers, value) => {
    expect(createEvent(record({ headers, value: utf8(value) })).cloudEvent).toBeUndefined();
  });
});
