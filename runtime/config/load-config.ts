import path from "node:path";
import { z } from "zod";
import { EddyError } from "../eddy-error.js";
import { formatIssues, problemsToText } from "./field-problems.js";
import { tracingFromEnv, type TracingSettings } from "./tracing-config.js";

/** Eddy's own settings, resolved once: flag > environment > default. Nothing else reads process.env. */
export interface EddyConfig {
  /** Null means "no cluster configured": `eddy start` runs the local broker. */
  brokers: string[] | null;
  sasl: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string } | null;
  ssl: boolean;
  port: number;
  host: string;
  apiToken: string | null;
  /** EDDY_SECRET_KEY: the key that seals functions' secrets (else `<dataDir>/secret.key`, runtime/secrets/). */
  secretKey: string | null;
  dataDir: string;
  topicPrefix: string;
  kafkaHome: string | null;
  logLevel: "debug" | "info" | "warn" | "error";
  /** EDDY_METRICS_AUTH: "token" makes `/metrics` need a valid token (any scope); default "none" (open). */
  metricsAuth: "none" | "token";
  /**
   * `--workers`/EDDY_WORKERS: "local" (default) forks each function's worker processes; "external" runs
   * none, for Kubernetes, where a StatefulSet per function runs `eddy worker` and KEDA scales it from
   * `GET /v1/functions/:name/scale`. The API, registry, scaler and dashboard work the same in both.
   */
  workers: "local" | "external";
  /** EDDY_WORKER_PORT (or `eddy worker --port`): where `eddy worker` serves /healthz and /readyz; null: no probe server. */
  workerPort: number | null;
  /** EDDY_WORKER_CPU_PROF: a folder where every worker writes a CPU profile (`node --cpu-prof`) when it exits. */
  workerCpuProfileDir: string | null;
  /** Where the CLI reaches the API. */
  url: string;
  /** Traces (OTEL_* variables, or `--otel <url>`): null when off, and then OpenTelemetry's SDK is never loaded. */
  tracing: TracingSettings | null;
  /** How Eddy's own log lines look on stderr: JSON lines, or readable lines for a person at a terminal. */
  logFormat: "json" | "pretty";
}

/** Flags as the CLI parsed them; every one optional. */
export interface ConfigFlags {
  kafka?: string;
  port?: string | number;
  host?: string;
  token?: string;
  dataDir?: string;
  url?: string;
  /** An OTLP/HTTP endpoint: the same as OTEL_EXPORTER_OTLP_ENDPOINT. */
  otel?: string;
  logFormat?: string;
  /** `eddy start --workers local|external`: the same as EDDY_WORKERS. */
  workers?: string;
}

const error = (what: string) => ({ error: what });
const envSchema = z.object({
  KAFKA_BROKERS: z.string().optional(),
  KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"], error('expected "plain", "scram-sha-256" or "scram-sha-512"')).optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  KAFKA_SSL: z.enum(["true", "false"], error('expected "true" or "false"')).optional(),
  EDDY_PORT: z.coerce.number(error("expected a port number")).int().min(0).max(65_535, error("expected a port number")).optional(),
  EDDY_HOST: z.string().optional(),
  EDDY_API_TOKEN: z.string().optional(),
  EDDY_SECRET_KEY: z.string().optional(),
  EDDY_DATA_DIR: z.string().optional(),
  EDDY_TOPIC_PREFIX: z.string().regex(/^[a-zA-Z0-9._-]*$/, error("expected characters allowed in topic names")).optional(),
  EDDY_KAFKA_HOME: z.string().optional(),
  EDDY_WORKER_CPU_PROF: z.string().optional(),
  EDDY_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"], error('expected "debug", "info", "warn" or "error"')).optional(),
  EDDY_URL: z.string().optional(),
  EDDY_METRICS_AUTH: z.enum(["none", "token"], error('expected "none" or "token"')).optional(),
  EDDY_LOG_FORMAT: z.enum(["json", "pretty"], error('expected "json" or "pretty"')).optional(),
  EDDY_WORKER_PORT: z.coerce.number(error("expected a port number")).int().min(0).max(65_535, error("expected a port number")).optional(),
  EDDY_WORKERS: z.enum(["local", "external"], error('expected "local" or "external"')).optional(),
});

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * Resolves Eddy's configuration from flags, then the environment, then defaults. `isTerminal`:
 * whether stderr is a terminal, where log lines default to readable text instead of JSON.
 */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env, isTerminal = false): EddyConfig {
  const parsed = envSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([key, value]) => key in envSchema.shape && nonEmpty(value) !== undefined)),
    { reportInput: true },
  );
  if (!parsed.success) {
    throw new EddyError("EDDY_CONFIG_INVALID", `Invalid environment:\n${problemsToText(formatIssues(parsed.error.issues))}`, {
      userError: true,
    });
  }
  const e = parsed.data;

  const brokersText = nonEmpty(flags.kafka) ?? e.KAFKA_BROKERS;
  const brokers = brokersText ? brokersText.split(",").map((b) => b.trim()).filter(Boolean) : null;

  let sasl: EddyConfig["sasl"] = null;
  if (e.KAFKA_SASL_MECHANISM) {
    if (!e.KAFKA_SASL_USERNAME || !e.KAFKA_SASL_PASSWORD) {
      throw new EddyError("EDDY_CONFIG_INVALID", "KAFKA_SASL_MECHANISM is set: set KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD too", {
        userError: true,
      });
    }
    sasl = { mechanism: e.KAFKA_SASL_MECHANISM, username: e.KAFKA_SASL_USERNAME, password: e.KAFKA_SASL_PASSWORD };
  }

  const port = flags.port !== undefined ? Number(flags.port) : (e.EDDY_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new EddyError("EDDY_CONFIG_INVALID", `--port: expected a port number, got ${String(flags.port)}`, { userError: true });
  }
  const host = nonEmpty(flags.host) ?? e.EDDY_HOST ?? "127.0.0.1";

  const otel = nonEmpty(flags.otel);
  if (otel !== undefined && !URL.canParse(otel)) {
    throw new EddyError("EDDY_CONFIG_INVALID", `--otel: expected the URL of an OTLP/HTTP endpoint such as http://localhost:4318, got ${otel}`, { userError: true });
  }
  const logFormat = nonEmpty(flags.logFormat) ?? e.EDDY_LOG_FORMAT ?? (isTerminal ? "pretty" : "json");
  if (logFormat !== "json" && logFormat !== "pretty") {
    throw new EddyError("EDDY_CONFIG_INVALID", `--log-format: expected "json" or "pretty", got ${logFormat}`, { userError: true });
  }
  const workers = nonEmpty(flags.workers) ?? e.EDDY_WORKERS ?? "local";
  if (workers !== "local" && workers !== "external") {
    throw new EddyError("EDDY_CONFIG_INVALID", `--workers: expected "local" or "external", got ${workers}`, { userError: true });
  }

  return {
    brokers,
    sasl,
    ssl: e.KAFKA_SSL === "true",
    port,
    host,
    apiToken: nonEmpty(flags.token) ?? e.EDDY_API_TOKEN ?? null,
    secretKey: e.EDDY_SECRET_KEY ?? null,
    dataDir: path.resolve(nonEmpty(flags.dataDir) ?? e.EDDY_DATA_DIR ?? ".eddy"),
    topicPrefix: e.EDDY_TOPIC_PREFIX ?? "eddy.",
    kafkaHome: e.EDDY_KAFKA_HOME ?? null,
    logLevel: e.EDDY_LOG_LEVEL ?? "info",
    metricsAuth: e.EDDY_METRICS_AUTH ?? "none",
    workers,
    workerPort: e.EDDY_WORKER_PORT ?? null,
    workerCpuProfileDir: e.EDDY_WORKER_CPU_PROF ? path.resolve(e.EDDY_WORKER_CPU_PROF) : null,
    url: nonEmpty(flags.url) ?? e.EDDY_URL ?? `http://${host}:${port}`,
    tracing: tracingFromEnv(otel === undefined ? env : { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: otel }),
    logFormat,
  };
}
