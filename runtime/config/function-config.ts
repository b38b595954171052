import { z } from "zod";
export { deadLetterTopic } from "./dead-letter-topic.js";
import { parseEgressEntry } from "./egress.js";
import { formatIssues, type FieldProblem } from "./field-problems.js";
import { reservedTopicReason, reservedTopicsFor } from "./reserved-topics.js";

/** An integer within bounds, with the message SPEC §3 shows: "expected an integer from 1 to 10000". */
function integer(min: number, max: number) {
  const error = `expected an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** Default `state.maxBytes`: what one worker keeps in memory of the function's state, keys and values. */
export const DEFAULT_STATE_MAX_BYTES = 64 * 1024 * 1024;
const MAX_STATE_BYTES = 4 * 1024 * 1024 * 1024;

const FUNCTION_NAME = /^[a-z0-9-]{1,63}$/;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export const functionNameSchema = z
  .string({ error: "expected a string" })
  .regex(FUNCTION_NAME, { error: "expected 1 to 63 characters from a-z, 0-9 and -" });

const topicSchema = z.string({ error: "expected a string" }).regex(TOPIC_NAME, { error: "expected a Kafka topic name" });

const backoffSchema = z
  .object({
    initialMs: integer(0, 3_600_000).default(100),
    multiplier: z.number({ error: "expected a number from 1 to 10" }).min(1).max(10).default(2),
    maxMs: integer(0, 3_600_000).default(10_000),
    jitter: z.enum(["full", "none"], { error: 'expected "full" or "none"' }).default("full"),
  })
  .strict();

const circuitBreakerSchema = z
  .object({
    consecutiveFailures: integer(1, 10_000).default(5),
    openMs: integer(1, 3_600_000).default(5_000),
    maxOpenMs: integer(1, 3_600_000).default(60_000),
    halfOpenProbes: integer(1, 1_000).default(1),
  })
  .strict();

const scalingSchema = z
  .object({
    minReplicas: integer(0, 1_000).default(0),
    /** Undefined means "one per partition". */
    maxReplicas: integer(1, 1_000).optional(),
    lagThreshold: integer(1, 100_000_000).default(100),
    activationLagThreshold: integer(0, 100_000_000).default(0),
    scaleToZeroAfterMs: integer(0, 86_400_000).default(60_000),
    /** How often the scaler reads the group's offsets (SPEC §7). */
    pollIntervalMs: integer(100, 60_000).default(1_000),
    /** The KPA stable window; the panic window is a tenth of it. */
    stableWindowMs: integer(1_000, 3_600_000).default(60_000),
    /** Least time between two changes of the replica count, except activation from zero and panic. */
    minChangeIntervalMs: integer(0, 3_600_000).default(10_000),
  })
  .strict()
  .superRefine((scaling, ctx) => {
    if (scaling.maxReplicas !== undefined && scaling.minReplicas > scaling.maxReplicas) {
      ctx.addIssue({ code: "custom", path: ["minReplicas"], message: `expected at most maxReplicas (${scaling.maxReplicas}), got ${scaling.minReplicas}` });
    }
    // A window shorter than a few polls would decide on one or two readings.
    if (scaling.stableWindowMs < scaling.pollIntervalMs * 10) {
      ctx.addIssue({
        code: "custom",
        path: ["stableWindowMs"],
        message: `expected at least 10 × pollIntervalMs (${scaling.pollIntervalMs * 10}), got ${scaling.stableWindowMs}`,
      });
    }
  });

/**
 * Every field of a function's configuration (SPEC §3), with its default next to it.
 * Unknown fields are rejected so that a typo never silently falls back to a default.
 */
export const functionConfigSchema = z
  .object({
    name: functionNameSchema,
    topics: z.array(topicSchema, { error: "expected a list of topic names" }).min(1, { error: "expected at least one topic" }),
    batch: z
      .object({ maxSize: integer(1, 10_000).default(100), maxWaitMs: integer(0, 60_000).default(10) })
      .strict()
      .default({ maxSize: 100, maxWaitMs: 10 }),
    ordering: z.enum(["partition", "key", "none"], { error: 'expected "partition", "key" or "none"' }).default("partition"),
    concurrency: integer(1, 1_000).default(16),
    retry: z
      .object({ maxAttempts: integer(1, 1_000).default(5), backoff: backoffSchema.prefault({}) })
      .strict()
      .prefault({}),
    deadLetter: z
      .object({ topic: z.union([topicSchema, z.literal(false)], { error: "expected a topic name or false" }).optional() })
      .strict()
      .prefault({}),
    circuitBreaker: circuitBreakerSchema.prefault({}),
    // The dispatcher sets the consumer's session timeout above this, so a slow invocation never evicts the replica.
    timeoutMs: integer(1, 300_000).default(30_000),
    memoryMb: integer(8, 4_096).default(128),
    startFrom: z.enum(["earliest", "latest"], { error: 'expected "earliest" or "latest"' }).default("latest"),
    delivery: z.enum(["at-least-once", "exactly-once"], { error: 'expected "at-least-once" or "exactly-once"' }).default("at-least-once"),
    egress: z
      .array(
        z.string({ error: "expected host or host:port" }).superRefine((entry, ctx) => {
          const parsed = parseEgressEntry(entry);
          if ("problem" in parsed) ctx.addIssue({ code: "custom", message: parsed.problem });
        }),
        { error: "expected a list of hosts" },
      )
      .default([]),
    env: z.record(z.string(), z.string({ error: "expected a string" }), { error: "expected an object of strings" }).default({}),
    scaling: scalingSchema.prefault({}),
    // Absent: the function keeps no state (ctx.state refuses, no changelog topic).
    state: z
      .object({ maxBytes: integer(1_024, MAX_STATE_BYTES).default(DEFAULT_STATE_MAX_BYTES) })
      .strict()
      .optional(),
  })
  .strict();


export type FunctionConfig = z.output<typeof functionConfigSchema>;

export type FunctionConfigResult = { ok: true; config: FunctionConfig } | { ok: false; problems: FieldProblem[] };

/** Validates a function's configuration, collecting every problem rather than stopping at the first. */
export function parseFunctionConfig(input: unknown): FunctionConfigResult {
  const result = functionConfigSchema.safeParse(input, { reportInput: true });
  if (result.success) {
    // State is per key: with "none" two records of a key may run at once and overwrite each other's writes.
    // (Checked here, not as a refinement: the deploy body's overrides are this schema made partial.)
    if (result.data.state !== undefined && result.data.ordering === "none") {
      return { ok: false, problems: [{ path: "state", message: 'expected ordering "partition" or "key" for a function with state (records of one key must run in order)' }] };
    }
    return { ok: true, config: result.data };
  }
  return { ok: false, problems: formatIssues(result.error.issues) };
}

/**
 * Source topics a function may not consume (SPEC §6): Eddy's own (the registry would hand it every
 * function's code) and Kafka's internal ones. Another function's dead-letter topic is allowed.
 */
export function reservedSourceTopicProblems(topics: string[], topicPrefix: string): FieldProblem[] {
  const reserved = reservedTopicsFor(topicPrefix);
  return topics.flatMap((topic, i) => {
    const reason = reservedTopicReason(topic, reserved);
    return reason === undefined ? [] : [{ path: `topics.${i}`, message: `${reason}; functions cannot consume it` }];
  });
}

