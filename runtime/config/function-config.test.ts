import { describe, expect, it } from "vitest";
import { deadLetterTopic, parseFunctionConfig, reservedSourceTopicProblems } from "./function-config.js";

const minimal = { name: "order-confirmation", topics: ["orders"] };

describe("parseFunctionConfig", () => {
  it("fills every default of SPEC §3", () => {
    const result = parseFunctionConfig(minimal);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toEqual({
      name: "order-confirmation",
      topics: ["orders"],
      batch: { maxSize: 100, maxWaitMs: 10 },
      ordering: "partition",
      concurrency: 16,
      retry: { maxAttempts: 5, backoff: { initialMs: 100, multiplier: 2, maxMs: 10_000, jitter: "full" } },
      deadLetter: {},
      circuitBreaker: { consecutiveFailures: 5, openMs: 5_000, maxOpenMs: 60_000, halfOpenProbes: 1 },
      timeoutMs: 30_000,
      memoryMb: 128,
      startFrom: "latest",
      delivery: "at-least-once",
      egress: [],
      env: {},
      scaling: {
        minReplicas: 0,
        lagThreshold: 100,
        activationLagThreshold: 0,
        scaleToZeroAfterMs: 60_000,
        pollIntervalMs: 1_000,
        stableWindowMs: 60_000,
        minChangeIntervalMs: 10_000,
      },
    });
    expect(deadLetterTopic(result.config)).toBe("order-confirmation.dlt");
  });

  it("keeps a partial override of a nested object and defaults the rest", () => {
    const result = parseFunctionConfig({ ...minimal, retry: { backoff: { initialMs: 5 } }, deadLetter: { topic: false } });
    expect(result.ok && result.config.retry).toEqual({ maxAttempts: 5, backoff: { initialMs: 5, multiplier: 2, maxMs: 10_000, jitter: "full" } });
    expect(result.ok && deadLetterTopic(result.config)).toBeNull();
  });

  it.each([
    [{ batch: { maxSize: 0 } }, "batch.maxSize", "expected an integer from 1 to 10000, got 0"],
    [{ batch: { maxSize: 1.5 } }, "batch.maxSize", "expected an integer from 1 to 10000, got 1.5"],
    [{ name: "Order_Confirmation" }, "name", "expected 1 to 63 characters from a-z, 0-9 and -"],
    [{ topics: [] }, "topics", "expected at least one topic"],
    [{ topics: "orders" }, "topics", "expected a list of topic names"],
    [{ ordering: "random" }, "ordering", 'expected "partition", "key" or "none"'],
    [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts", "expected an integer from 1 to 1000"],
    [{ timeoutMs: -1 }, "timeoutMs", "expected an integer from 1 to 300000"],
    [{ memoryMb: "lots" }, "memoryMb", "expected an integer from 8 to 4096"],
    [{ startFrom: "now" }, "startFrom", 'expected "earliest" or "latest"'],
    [{ env: { A: 1 } }, "env.A", "expected a string"],
    [{ batchSize: 10 }, "batchSize", "unknown field"],
    [{ circuitBreaker: { openMS: 10 } }, "circuitBreaker.openMS", "unknown field"],
    [{ scaling: { minReplicas: 4, maxReplicas: 2 } }, "scaling.minReplicas", "expected at most maxReplicas (2), got 4"],
    [{ scaling: { pollIntervalMs: 50 } }, "scaling.pollIntervalMs", "expected an integer from 100 to 60000"],
    [{ scaling: { stableWindowMs: 5_000 } }, "scaling.stableWindowMs", "expected at least 10 × pollIntervalMs (10000), got 5000"],
    [{ scaling: { stableWindowMs: 7_200_000 } }, "scaling.stableWindowMs", "expected an integer from 1000 to 3600000"],
    [{ scaling: { minChangeIntervalMs: -1 } }, "scaling.minChangeIntervalMs", "expected an integer from 0 to 3600000"],
  ])("rejects %j naming %s", (override, path, message) => {
    const result = parseFunctionConfig({ ...minimal, ...override });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problem = result.problems.find((p) => p.path === path);
    expect(problem?.message).toContain(message);
  });

  it("lists every problem at once", () => {
    const result = parseFunctionConfig({ name: "x", topics: ["t"], batch: { maxSize: 0, maxWaitMs: -5 }, concurrency: 0 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.path).sort()).toEqual(["batch.maxSize", "batch.maxWaitMs", "concurrency"]);
  });
});

describe("reservedSourceTopicProblems", () => {
  it.each([
    { topics: ["eddy.functions"], prefix: "eddy.", path: "topics.0", message: `"eddy.functions" is Eddy's function registry; functions cannot consume it` },
    { topics: ["orders", "__consumer_offsets"], prefix: "eddy.", path: "topics.1", message: `"__consumer_offsets" is internal to Kafka` },
    { topics: ["team.functions"], prefix: "team.", path: "topics.0", message: `"team.functions" is Eddy's function registry` },
    { topics: ["team.tokens"], prefix: "team.", path: "topics.0", message: `belongs to Eddy (topics starting with "team.")` },
  ])("refuses $topics under prefix $prefix, naming $path", ({ topics, prefix, path, message }) => {
    const problems = reservedSourceTopicProblems(topics, prefix);
    expect(problems.map((p) => p.path)).toEqual([path]);
    expect(problems[0]!.message).toContain(message);
  });

  it("allows user topics and another function's dead-letter topic", () => {
    expect(reservedSourceTopicProblems(["orders", "payments.dlt", "order-confirmation.dlt"], "eddy.")).toEqual([]);
  });
});
