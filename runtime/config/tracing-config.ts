import { EddyError } from "../eddy-error.js";

/** OpenTelemetry's standard samplers (OTEL_TRACES_SAMPLER), the ratio ones with OTEL_TRACES_SAMPLER_ARG. */
export type SamplerSetting =
  | { kind: "always_on" | "always_off" | "parentbased_always_on" | "parentbased_always_off" }
  | { kind: "traceidratio" | "parentbased_traceidratio"; ratio: number };

/** Tracing is on: what the SDK needs beyond what its own packages read from OTEL_* (endpoint, headers, resource). */
export interface TracingSettings {
  sampler: SamplerSetting;
  /** OTEL_BSP_SCHEDULE_DELAY: how long finished spans wait to be sent together (default 5,000 ms). */
  scheduleDelayMs: number;
}

const SAMPLERS = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"] as const;

const invalid = (message: string) => new EddyError("EDDY_CONFIG_INVALID", message, { userError: true });

/**
 * Whether, and how, Eddy traces, from OpenTelemetry's standard variables: on when an OTLP endpoint is
 * set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER
 * names otlp; off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. Null means off: the SDK
 * is then never loaded.
 */
export function tracingFromEnv(env: Record<string, string | undefined>): TracingSettings | null {
  const text = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  if (text("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return null;
  const exporters = (text("OTEL_TRACES_EXPORTER") ?? "").toLowerCase().split(",").map((e) => e.trim()).filter(Boolean);
  if (exporters.includes("none")) return null;
  const unsupported = exporters.filter((e) => e !== "otlp");
  if (unsupported.length > 0) {
    throw invalid(`OTEL_TRACES_EXPORTER: Eddy exports traces with OTLP over HTTP only; got "${unsupported.join(",")}" (set it to "otlp", or unset it)`);
  }
  const endpoint = text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? text("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (endpoint === undefined && exporters.length === 0) return null;
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    throw invalid(`OTEL_EXPORTER_OTLP_ENDPOINT: expected a URL such as http://localhost:4318, got "${endpoint}"`);
  }

  const kind = (text("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on").toLowerCase();
  if (!(SAMPLERS as readonly string[]).includes(kind)) {
    throw invalid(`OTEL_TRACES_SAMPLER: expected one of ${SAMPLERS.join(", ")}; got "${kind}"`);
  }
  let sampler: SamplerSetting;
  if (kind === "traceidratio" || kind === "parentbased_traceidratio") {
    const arg = text("OTEL_TRACES_SAMPLER_ARG");
    const ratio = arg === undefined ? 1 : Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      throw invalid(`OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1 for ${kind}, got "${arg}"`);
    }
    sampler = { kind, ratio };
  } else {
    sampler = { kind: kind as Exclude<SamplerSetting["kind"], "traceidratio" | "parentbased_traceidratio"> };
  }

  const delayText = text("OTEL_BSP_SCHEDULE_DELAY");
  const scheduleDelayMs = delayText === undefined ? 5_000 : Number(delayText);
  if (!Number.isInteger(scheduleDelayMs) || scheduleDelayMs < 0) {
    throw invalid(`OTEL_BSP_SCHEDULE_DELAY: expected a whole number of milliseconds, got "${delayText}"`);
  }
  return { sampler, scheduleDelayMs };
}
