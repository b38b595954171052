import { describe, expect, it } from "vitest";
import { parseNodeCount } from "./local-kafka.js";

describe("parseNodeCount", () => {
  it.each([
    ["1", 1],
    ["3", 3],
    [" 3 ", 3],
  ])("reads %j as %i", (text, count) => {
    expect(parseNodeCount("--brokers", text)).toBe(count);
  });

  it.each(["2", "0", "4", "-1", "three", "3.0", ""])("refuses %j, naming the option and the counts it takes", (text) => {
    expect(() => parseNodeCount("--brokers", text)).toThrow(/^--brokers: expected 1 \(a single broker\) or 3 .*got /);
    try {
      parseNodeCount("--brokers", text);
    } catch (error) {
      expect(error).toMatchObject({ code: "EDDY_KAFKA_NODES_INVALID", userError: true });
    }
  });
});
