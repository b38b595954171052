import { describe, expect, it } from "vitest";
import { parsePosition } from "./dead-letter.js";

describe("parsePosition", () => {
  it("reads topic/partition@offset, the topic up to the last slash", () => {
    expect(parsePosition("orders/2@1041")).toEqual({ topic: "orders", partition: 2, offset: "1041" });
    expect(parsePosition("a.b-c_d/0@0")).toEqual({ topic: "a.b-c_d", partition: 0, offset: "0" });
  });

  it.each(["orders", "orders/2", "orders@3", "orders/x@3", "/2@3", "orders/2@-1"])("refuses %s with the expected shape", (text) => {
    expect(() => parsePosition(text)).toThrow("expected <topic>/<partition>@<offset>");
  });
});
