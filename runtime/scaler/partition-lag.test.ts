import { describe, expect, it } from "vitest";
import { partitionLag } from "./partition-lag.js";

describe("partitionLag", () => {
  it.each([
    { name: "committed inside the log", committed: "40", low: "0", high: "100", startFrom: "latest", lag: 60 },
    { name: "caught up", committed: "100", low: "0", high: "100", startFrom: "latest", lag: 0 },
    { name: "nothing committed, starting from latest: no lag", committed: "-1", low: "10", high: "100", startFrom: "latest", lag: 0 },
    { name: "nothing committed, starting from earliest: the whole retained log", committed: "-1", low: "10", high: "100", startFrom: "earliest", lag: 90 },
    { name: "records deleted by retention are not lag", committed: "5", low: "50", high: "100", startFrom: "latest", lag: 50 },
    { name: "never negative, even past the end", committed: "120", low: "0", high: "100", startFrom: "latest", lag: 0 },
    { name: "beyond 2^53 offsets stay exact in the difference", committed: "9007199254740993", low: "0", high: "9007199254741000", startFrom: "latest", lag: 7 },
  ] as const)("$name", ({ committed, low, high, startFrom, lag }) => {
    expect(partitionLag("t", 0, { committed, low, high }, startFrom).lag).toBe(lag);
  });
});
