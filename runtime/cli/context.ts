import type { Command } from "commander";
import { loadConfig, type EddyConfig } from "../config/load-config.js";
import { log, setLogFormat } from "../log.js";

/** The global flags every command shares (SPEC §8). */
export interface GlobalFlags {
  url?: string;
  token?: string;
  json?: boolean;
  kafka?: string;
  dataDir?: string;
  logFormat?: string;
  /** `eddy start --otel <url>`, `eddy worker --otel <url>`. */
  otel?: string;
}

/** Resolves the configuration for a command from its global flags, in the one place that does it. */
export function configFor(command: Command): EddyConfig {
  const flags = command.optsWithGlobals<GlobalFlags & { port?: string; host?: string }>();
  const config = loadConfig(flags, process.env, process.stderr.isTTY === true);
  log.level = config.logLevel;
  setLogFormat(config.logFormat);
  // OpenTelemetry's exporter reads the endpoint from the environment, in this process and in the workers it forks.
  if (flags.otel !== undefined && config.tracing !== null) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = flags.otel;
  return config;
}

export function wantsJson(command: Command): boolean {
  return command.optsWithGlobals<GlobalFlags>().json === true;
}

/** Progress of long work goes to stderr so that stdout stays parseable. */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}
