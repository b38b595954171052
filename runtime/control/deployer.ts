import { createHash } from "node:crypto";
import type { Admin, Kafka } from "kafkajs";
import { deadLetterTopic, parseFunctionConfig } from "../config/function-config.js";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import { problemsToText } from "../config/field-problems.js";
import { EddyError } from "../eddy-error.js";
import { ensureTopics, pinNewGroupOffsets } from "../kafka/topics.js";
import { bundleFunction } from "../sandbox/bundler.js";
import { inspectBundle } from "../sandbox/inspect-process.js";
import type { FunctionRegistry } from "./registry.js";

/** What a deploy carries (SPEC §6 `POST /v1/functions`): exactly one of source, files+entry, or bundle. */
export type DeployRequest = (
  | { source: string; filename?: string }
  | { files: Record<string, string>; entry: string }
  | { bundle: string }
) & { config?: Record<string, unknown>; env?: Record<string, string> };

export interface DeployResult {
  record: FunctionRecord;
  /** False when neither code nor configuration changed: the version stays. */
  changed: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Overrides win field by field, nested objects merged, arrays replaced. */
function mergeConfig(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const existing = merged[key];
    merged[key] = isPlainObject(existing) && isPlainObject(value) ? mergeConfig(existing, value) : value;
  }
  return merged;
}

/**
 * Turns a deploy request into a stored version: bundle, load in a separate process to read the
 * definition, validate the configuration, prepare the topics and the consumer group, then write the
 * registry (which the supervisor follows to start or replace workers).
 */
export class Deployer {
  /** Deploys run one at a time so that versions increase without gaps or races within an instance. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly topicPrefix: string,
  ) {}

  deploy(request: DeployRequest): Promise<DeployResult> {
    const run = this.queue.then(() => this.deployNow(request));
    this.queue = run.catch(() => {});
    return run;
  }

  private async deployNow(request: DeployRequest): Promise<DeployResult> {
    const code =
      "bundle" in request
        ? request.bundle
        : "files" in request
          ? await bundleFunction({ files: request.files, entry: request.entry })
          : await bundleFunction({ source: request.source, filename: request.filename });
    const info = await inspectBundle(code);

    const declared = { ...info.config, name: info.name, topics: info.topics };
    const withOverrides = mergeConfig(declared, request.config ?? {});
    if (request.env) withOverrides.env = { ...(isPlainObject(withOverrides.env) ? withOverrides.env : {}), ...request.env };
    const parsed = parseFunctionConfig(withOverrides);
    if (!parsed.ok) {
      throw new EddyError("EDDY_CONFIG_INVALID", `Invalid function configuration:\n${problemsToText(parsed.problems)}`, {
        userError: true,
        context: { details: parsed.problems },
      });
    }
    const config = parsed.config;
    const digest = createHash("sha256").update(code).update("\0").update(JSON.stringify(config)).digest("hex");

    const current = this.registry.get(config.name);
    if (current && current.digest === digest) return { record: current, changed: false };

    const dlt = deadLetterTopic(config);
    await ensureTopics(this.admin, dlt ? [...config.topics, dlt] : config.topics);
    await pinNewGroupOffsets(this.kafka, this.admin, consumerGroupId(this.topicPrefix, config.name), config.topics, config.startFrom);

    const record: FunctionRecord = {
      name: config.name,
      version: (current?.version ?? 0) + 1,
      config,
      handler: info.handler,
      code,
      digest,
      deployedAt: new Date().toISOString(),
    };
    await this.registry.put(record);
    return { record, changed: true };
  }
}
