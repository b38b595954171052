import { describe, expect, it } from "vitest";
import { replicaIndexOf } from "./worker.js";

describe("replicaIndexOf", () => {
  it.each([
    { flag: "3", hostname: "eddy-orders-1", index: 3 },
    { flag: undefined, hostname: "eddy-orders-2", index: 2 },
    { flag: undefined, hostname: "laptop", index: 0 },
    { flag: "0", hostname: "whatever-7", index: 0 },
  ])("--replica $flag on host $hostname is replica $index", ({ flag, hostname, index }) => {
    expect(replicaIndexOf(flag, hostname)).toBe(index);
  });

  it("refuses an index that is not a small whole number, naming the option", () => {
    expect(() => replicaIndexOf("-1", "h")).toThrow("--replica: expected an integer from 0 to 9999, got -1");
    expect(() => replicaIndexOf("two", "h")).toThrow("--replica");
  });
});
