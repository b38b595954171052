/**
 * The request and response shapes of the HTTP API (SPEC §6). The routes validate requests with these
 * schemas and `GET /v1/openapi.json` is generated from them, so the document cannot drift from the code.
 */
import { z } from "zod";
import { functionConfigSchema, functionNameSchema } from "../config/function-config.js";
import { FUNCTION_PATTERN, TOKEN_SCOPES } from "./scopes.js";

const text = z.string({ error: "expected a string" });
const stringMap = z.record(z.string(), text, { error: "expected an object of strings" });
const topicName = text.regex(/^[a-zA-Z0-9._-]{1,249}$/, { error: "expected a Kafka topic name" });
const boolText = z.enum(["true", "false"], { error: 'expected "true" or "false"' });

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const SECRET_NAME_MESSAGE = "expected a variable name: letters, digits and _, not starting with a digit (at most 128)";
export const secretName = text.regex(SECRET_NAME, { error: SECRET_NAME_MESSAGE });
const secretValue = text.max(65_536, { error: "expected at most 65536 characters" });
const secretMap = z.record(secretName, secretValue, { error: "expected an object of strings" });

/** Routes that take no body accept none, or `{}`. */
export const emptyBody = z.object({}).strict();

export const nameParams = z.object({ name: functionNameSchema });

/** Overrides of the function's own configuration: any field of SPEC §3, each validated; unknown fields rejected. */
export const configOverrides = functionConfigSchema.partial();

export const deployBody = z
  .object({
    source: text.min(1, { error: "expected source code" }).optional().describe("One TypeScript or JavaScript module"),
    filename: text.optional().describe("The module's file name, for error positions (default function.ts)"),
    files: stringMap.optional().describe("Several modules by relative path; requires entry"),
    entry: text.optional().describe("The entry module of files"),
    bundle: text.min(1, { error: "expected a bundle" }).optional().describe("A bundle prebuilt by the CLI"),
    config: configOverrides.optional().describe("Overrides of the configuration the code declares"),
    env: stringMap.optional().describe("Variables visible as ctx.env, merged over config.env"),
    secrets: secretMap.optional().describe("Write-only variables: stored encrypted, visible to the function as ctx.env, never returned"),
  })
  .strict()
  .superRefine((body, ctx) => {
    const given = [body.source !== undefined, body.files !== undefined, body.bundle !== undefined].filter(Boolean).length;
    if (given !== 1) ctx.addIssue({ code: "custom", path: ["source"], message: "expected exactly one of source, files (with entry) or bundle" });
    if (body.files !== undefined && body.entry === undefined) ctx.addIssue({ code: "custom", path: ["entry"], message: "expected the entry file of files" });
    if (body.entry !== undefined && body.files !== undefined && !(body.entry in body.files)) {
      ctx.addIssue({ code: "custom", path: ["entry"], message: "expected the name of one of files" });
    }
  });

export const deleteQuery = z.object({ deleteGroup: boolText.optional().describe("Also delete the consumer group, and a stateful function's state changelog `<name>.state` (default false)") }).strict();

export const rollbackBody = z
  .object({ version: z.number({ error: "expected a version number" }).int({ error: "expected a version number" }).min(1, { error: "expected a version number" }) })
  .strict();

const invokeEvent = z
  .object({
    key: text.nullable().optional(),
    // Any JSON value (z.json() would be exact, but its recursive schema cannot sit inline in the OpenAPI document).
    value: z.unknown().describe("A string is sent as UTF-8 (or decoded from base64 with encoding), anything else as JSON"),
    encoding: z.literal("base64", { error: 'expected "base64"' }).optional(),
    headers: stringMap.optional(),
    topic: topicName.optional().describe("The event's topic (default: the function's first topic)"),
  })
  .strict()
  .superRefine((event, ctx) => {
    if (event.value === undefined) ctx.addIssue({ code: "custom", path: ["value"], message: "expected a JSON value (null for none), got nothing" });
    if (event.encoding === "base64" && typeof event.value !== "string") ctx.addIssue({ code: "custom", path: ["value"], message: "expected a base64 string" });
  });

export const invokeBody = z
  .object({
    events: z
      .array(invokeEvent, { error: "expected a list of events" })
      .min(1, { error: "expected at least one event" })
      .max(1_000, { error: "expected at most 1000 events" }),
  })
  .strict();

const offsetText = z.union([text.regex(/^\d+$/), z.number().int().min(0)], { error: "expected an offset (a non-negative integer)" });
const FROM_MESSAGE = 'expected "earliest", "latest", an ISO-8601 time or { "<topic>": { "<partition>": "<offset>" } }';
export const replayFrom = z.union(
  [
    z.enum(["earliest", "latest"]),
    z.iso.datetime({ offset: true, error: FROM_MESSAGE }),
    z.record(topicName, z.record(text.regex(/^\d+$/, { error: "expected a partition number" }), offsetText), { error: FROM_MESSAGE }),
  ],
  { error: FROM_MESSAGE },
);
export const replayBody = z.object({ from: replayFrom }).strict();
export type ReplayFrom = z.output<typeof replayFrom>;

export const logsQuery = z
  .object({
    follow: boolText.optional().describe("Stream new lines as server-sent events"),
    limit: z.coerce.number({ error: "expected an integer from 1 to 1000" }).int().min(1).max(1_000).optional().describe("Recent lines to send (default 100)"),
  })
  .strict();

// Responses.

export const errorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

export const functionSummary = z.object({
  name: z.string(),
  version: z.number().int(),
  handler: z.enum(["handle", "handleBatch"]),
  deployedAt: z.string(),
  config: functionConfigSchema,
  secrets: z.array(z.string()).describe("The names of the function's secrets (their values are never returned)"),
});

export const secretParams = z.object({ name: functionNameSchema, secret: secretName });
export const secretBody = z.object({ value: secretValue }).strict();
export const secretList = z.object({ name: z.string(), version: z.number().int(), secrets: z.array(z.string()) });

export const functionList = z.object({ functions: z.array(functionSummary) });

const redriveStatus = z.object({
  state: z.enum(["running", "done", "failed"]),
  topic: z.string(),
  version: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  total: z.number().int(),
  done: z.number().int(),
  succeeded: z.number().int(),
  deadLettered: z.number().int(),
  error: z.string().optional(),
});

const scalingChange = z.object({ at: z.string(), from: z.number().int(), to: z.number().int(), reason: z.string() });

export const scalerStatus = z.object({
  mode: z.enum(["stable", "panic"]),
  lag: z.number().describe("Total lag at the latest reading"),
  arrivalPerSec: z.number().describe("Records arriving per second over the panic window"),
  drainPerReplicaPerSec: z.number().nullable().describe("Records one replica finishes per second under a backlog; null until measured"),
  decisions: z.number().int().describe("Changes of the replica count since the control plane started"),
  lastChange: scalingChange.nullable(),
});

/** `GET /v1/functions/:name/scale`: what KEDA's metrics-api scaler reads (valueLocation `desiredReplicas`). */
export const scaleHint = z.object({
  name: z.string(),
  desiredReplicas: z.number().int(),
  lag: z.number(),
  arrivalPerSec: z.number(),
});

const stuckRecord = z.object({
  topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  attempts: z.number().int(),
  lastError: z.object({ name: z.string(), message: z.string() }),
  waitingMs: z.number(),
});

export const functionStatus = functionSummary.extend({
  state: z.enum(["running", "scaled-to-zero", "paused", "failing"]),
  replicas: z.object({
    desired: z.number().int(),
    ready: z.number().int(),
    restarts: z.number().int().describe("Workers restarted after they exited on their own, in this control plane's life"),
    nextRestartInMs: z.number().nullable().describe("A crashed worker waits this long before it is started again (0.5 s doubling to 30 s; afresh after a minute up); null when none waits"),
  }),
  lag: z.object({ total: z.number(), partitions: z.array(z.object({ topic: z.string(), partition: z.number().int(), lag: z.number() })) }),
  circuit: z.enum(["closed", "half-open", "open"]),
  crashes: z
    .object({
      suspects: z.number().int().describe("Records in flight at a worker crash that have not run through since: they run in ever smaller invocations, one at a time (bisect)"),
      quarantined: z.number().int().describe("Suspects that crashed their worker alone 3 times: dead-lettered with eddy-dlt-error-name EDDY_WORKER_CRASHED when fetched again"),
      last: z
        .object({ at: z.string(), replica: z.number().int(), exit: z.string(), inFlight: z.number().int() })
        .nullable()
        .describe("The last worker crash blamed on records in flight (a fatal signal such as V8's out-of-memory abort; kill -9 from outside blames nothing)"),
    })
    .describe("Worker crashes caused by records (crash-loop quarantine)"),
  stuck: z
    .array(stuckRecord)
    .describe("Failed records their partitions have waited behind for 3 of the breaker's open periods with no success since (an outage, or poison on a quiet partition); `eddy dead-letter` moves one on"),
  stateStore: z
    .object({
      keys: z.number().int().describe("Keys held by the running replicas (each holds its partitions' state)"),
      bytes: z.number().int().describe("Their keys and values, in UTF-8 bytes"),
      restoring: z.number().int().describe("Partitions being restored from the changelog (none of their records runs meanwhile)"),
      maxBytesPerReplica: z.number().int().describe("state.maxBytes: past it a replica refuses writes that grow its state (EDDY_STATE_FULL)"),
      topic: z.string().describe("The compacted changelog topic"),
    })
    .optional()
    .describe("The function's per-key state (ctx.state), for functions with `state` in their definition; 0 keys while no replica runs"),
  stats: z.object({ processed: z.number(), failed: z.number(), retried: z.number(), deadLettered: z.number(), p50Ms: z.number(), p99Ms: z.number() }),
  scaler: scalerStatus,
  problem: z.string().optional().describe("Why a deployed function does not run (e.g. its secrets were sealed with another key)"),
  stateReason: z.string().optional().describe("Why the state is not running: paused, scaled to zero, crash-looping, or the circuit breaker open"),
  redrive: redriveStatus.optional().describe("The latest redrive, if any"),
});

// The dashboard's routes (`history-routes.ts`).
export const historyAnswer = z.object({
  name: z.string(),
  intervalMs: z.number().int(),
  samples: z.array(
    z.object({
      at: z.string(),
      lag: z.number(),
      arrivalPerSec: z.number(),
      processedPerSec: z.number(),
      failedPerSec: z.number(),
      deadLetteredPerSec: z.number(),
      replicasDesired: z.number().int(),
      replicasReady: z.number().int(),
      p99Ms: z.number(),
    }),
  ),
  decisions: z.array(z.object({ at: z.string(), from: z.number().int(), to: z.number().int(), reason: z.string() })),
});
export const deadLettersQuery = z
  .object({
    limit: z.coerce.number({ error: "expected an integer from 1 to 100" }).int().min(1).max(100).optional().describe("How many of the newest records (default 20)"),
  })
  .strict();
export const deadLettersAnswer = z.object({
  name: z.string(),
  topic: z.string().nullable(),
  records: z.array(
    z.object({ partition: z.number().int(), offset: z.string(), timestamp: z.string(), key: z.string().nullable(), value: z.string(), headers: z.record(z.string(), z.string()) }),
  ),
});
export const whoamiAnswer = z.object({
  name: z.string(),
  scope: z.enum(["read", "deploy", "admin"]),
  pattern: z.string().nullable().describe("A deploy token's limit: the function names it may change"),
});

export const versionList = z.object({
  name: z.string(),
  current: z.number().int(),
  versions: z.array(
    z.object({
      version: z.number().int(),
      current: z.boolean(),
      digest: z.string(),
      deployedAt: z.string(),
      handler: z.enum(["handle", "handleBatch"]),
      config: functionConfigSchema,
      secrets: z.array(z.string()).describe("Secret names only"),
    }),
  ),
});

export const invokeResult = z.object({
  ok: z.boolean(),
  error: z.object({ name: z.string(), message: z.string(), code: z.string().optional(), stack: z.string().optional() }).optional(),
  emitted: z.array(
    z.object({ topic: z.string(), key: z.string().nullable(), value: z.string().nullable(), encoding: z.literal("base64").optional(), headers: stringMap }),
  ),
  logs: z.array(z.object({ level: z.enum(["debug", "info", "warn", "error"]), message: z.string(), at: z.string() })),
  durationMs: z.number(),
});

export const replayAccepted = z.object({
  name: z.string(),
  from: replayFrom,
  offsets: z.array(z.object({ topic: z.string(), partition: z.number().int(), offset: z.string() })).describe("Where the group now starts"),
  paused: z.boolean().describe("True when an operator paused the function: it stays paused"),
});

export const redriveAccepted = redriveStatus.extend({ name: z.string() });

export const pauseResult = functionSummary.extend({ paused: z.boolean() });

export const deadLetterBody = z
  .object({
    topic: z.string().min(1).describe("One of the function's topics"),
    partition: z.number().int().min(0),
    offset: z.string().regex(/^\d{1,19}$/, "expected a record offset, decimal digits").describe("The record's offset, as a string (int64)"),
  })
  .strict();

export const stateParams = z.object({ name: functionNameSchema, key: z.string().min(1).describe("The record key, URL-encoded") });

export const stateValue = z.object({
  name: z.string(),
  key: z.string(),
  value: z.unknown().describe("The key's state, as the function set it (JSON)"),
  partition: z.number().int().describe("The changelog partition it lives in (its records' source partition)"),
  updatedAt: z.string().describe("When it was last written (the changelog record's timestamp)"),
  fresh: z.boolean().describe("False when the changelog could not be read to its end within 5 s: the value may be older than the newest write"),
});

export const deadLetterAccepted = z.object({
  name: z.string(),
  topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  deadLetterTopic: z.string(),
  /** The record was being invoked: it goes to the dead-letter topic only if that attempt fails. */
  afterAttempt: z.boolean(),
  message: z.string(),
});


export const logLine = z.object({
  at: z.string(),
  level: z.enum(["debug", "info", "warn", "error"]),
  source: z.enum(["function", "eddy"]),
  message: z.string(),
  context: z.record(z.string(), z.unknown()).optional(),
  traceId: z.string().optional().describe("With tracing on: the trace of the invocation that wrote the line"),
  spanId: z.string().optional().describe("With tracing on: the invocation's span"),
});
export const logList = z.object({ name: z.string(), lines: z.array(logLine) });

// Scoped tokens (`tokens-routes.ts`, SPEC §6).

export const tokenScope = z.enum(TOKEN_SCOPES, { error: 'expected "read", "deploy" or "admin"' });
export const functionPattern = text.regex(FUNCTION_PATTERN, {
  error: "expected a function name or a pattern of a-z, 0-9, - with * (any run) and ? (one character), e.g. team-a-*",
});

export const tokenCreateBody = z
  .object({
    scope: tokenScope.describe("read: GET routes; deploy: also deploy, rollback, invoke, replay, redrive, pause, resume, secrets; admin: everything"),
    name: text.min(1, { error: "expected a name" }).max(100, { error: "expected at most 100 characters" }).optional().describe("What the token is for"),
    functions: functionPattern.optional().describe("Limit a deploy token to functions whose names match this pattern (e.g. team-a-*)"),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.functions !== undefined && body.scope !== "deploy") {
      ctx.addIssue({ code: "custom", path: ["functions"], message: `only a deploy token can be limited to functions, got scope ${body.scope}` });
    }
  });

export const tokenParams = z.object({ id: text.regex(/^[0-9a-f]{16}$/, { error: "expected a token id (16 hex digits)" }) });

export const tokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  scope: tokenScope,
  functions: z.string().optional(),
  createdAt: z.string(),
});
export const tokenList = z.object({ tokens: z.array(tokenInfo).describe("Scoped tokens, oldest first (never their secrets)") });
export const tokenCreated = tokenInfo.extend({ token: z.string().describe("The token's secret: shown in this answer only, stored as a hash") });
