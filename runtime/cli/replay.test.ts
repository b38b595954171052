import { describe, expect, it } from "vitest";
import { parseFrom } from "./replay.js";

describe("eddy replay --from", () => {
  const now = Date.parse("2025-06-01T12:00:00.000Z");
  it.each([
    ["earliest", "earliest"],
    ["latest", "latest"],
    ["2025-05-31T10:00:00Z", "2025-05-31T10:00:00.000Z"],
    ["15m", "2025-06-01T11:45:00.000Z"],
    ["2h", "2025-06-01T10:00:00.000Z"],
    ["orders:0=15,orders:1=20,emails:0=3", { orders: { "0": "15", "1": "20" }, emails: { "0": "3" } }],
    ['{"orders":{"0":"7"}}', { orders: { "0": "7" } }],
  ])("reads %s", (text, expected) => expect(parseFrom(text, now)).toEqual(expected));

  it.each(["last tuesday", "orders=5", "{broken"])("refuses %s naming --from", (text) => expect(() => parseFrom(text, now)).toThrow(/--from/));
});
