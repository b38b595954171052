import { createHash } from "node:crypto";
import type { Admin, Kafka } from "kafkajs";
import { deadLetterTopic, parseFunctionConfig, reservedSourceTopicProblems, type FunctionConfig } from "../config/function-config.js";
import { consumerGroupId, type FunctionRecord, type SealedSecrets } from "../config/function-record.js";
import { problemsToText } from "../config/field-problems.js";
import { EddyError } from "../eddy-error.js";
import { retryRetriable } from "../kafka/retry-retriable.js";
import { ensureTopics, pinNewGroupOffsets } from "../kafka/topics.js";
import { bundleFunction } from "../sandbox/bundler.js";
import { inspectBundle } from "../sandbox/inspect-process.js";
import { secretsFingerprint, updateSecrets } from "../secrets/sealed-secrets.js";
import type { FunctionRegistry } from "./registry.js";

/** What a deploy carries (SPEC §6 `POST /v1/functions`): exactly one of source, files+entry, or bundle. */
export type DeployRequest = (
  | { source: string; filename?: string }
  | { files: Record<string, string>; entry: string }
  | { bundle: string }
) & {
  config?: Record<string, unknown>;
  env?: Record<string, string>;
  secrets?: Record<string, string>;
  /** Called with the function's name once it is known, before anything is written; throws to refuse (a deploy token's pattern). */
  authorize?: (name: string) => void;
};

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

/** What identifies a version's content: its code, its configuration and its secrets' keyed MACs (never their values). */
function recordDigest(code: string, config: FunctionConfig, secrets: SealedSecrets | undefined): string {
  const hash = createHash("sha256").update(code).update("\0").update(JSON.stringify(config));
  // Without secrets the digest stays what it was before secrets existed, so an upgrade redeploys nothing.
  if (secrets) hash.update("\0").update(secretsFingerprint(secrets));
  return hash.digest("hex");
}

/**
 * Turns a deploy request into a stored version: bundle, load in a separate process to read the
 * definition, validate the configuration, prepare the topics and the consumer group, then write the
 * registry (which the supervisor follows to start or replace workers).
 */
export class Deployer {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly registry: FunctionRegistry,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly topicPrefix: string,
    /** Seals secrets (runtime/secrets/); the deployer never opens one. */
    private readonly secretKey: Buffer,
    /** Has a worker process booted ahead of need as a deploy begins (it boots while the deploy bundles, inspects and prepares). */
    private readonly prewarmWorker?: () => void,
  ) {}

  deploy(request: DeployRequest): Promise<DeployResult> {
    return this.serially(async () => {
      this.prewarmWorker?.();
      return this.deployNow(request);
    });
  }

  /**
   * Makes a stored version current again (its code and configuration as they were), keeping its number.
   * Returns null when the function or the version does not exist.
   */
  rollback(name: string, version: number): Promise<FunctionRecord | null> {
    return this.serially(async () => {
      await this.registry.sync();
      const target = this.registry.versions(name).find((r) => r.version === version);
      if (!target) return null;
      if (this.registry.get(name)?.version !== version) {
        await this.prepareTopicsAndGroup(target.config);
        await this.registry.setCurrent(name, version);
      }
      return this.registry.get(name) ?? null;
    });
  }

  /** Deploys and rollbacks run one at a time so that versions increase without gaps or races within an instance. */
  serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
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
    const problems = parsed.ok ? reservedSourceTopicProblems(parsed.config.topics, this.topicPrefix) : parsed.problems;
    if (!parsed.ok || problems.length > 0) {
      throw new EddyError("EDDY_CONFIG_INVALID", `Invalid function configuration:\n${problemsToText(problems)}`, {
        userError: true,
        context: { details: problems },
      });
    }
    const config = parsed.config;
    request.authorize?.(config.name);

    // Another instance may have written since this one last read: version numbers come from the whole log.
    await this.registry.sync();
    const current = this.registry.get(config.name);
    // A deploy keeps the secrets already set (as `wrangler deploy` does); the ones it names are set anew.
    const secrets = updateSecrets(this.secretKey, config.name, current?.secrets, { set: request.secrets ?? {} });
    const digest = recordDigest(code, config, secrets);
    if (current && current.digest === digest) return { record: current, changed: false };

    await this.prepareTopicsAndGroup(config);

    const record: FunctionRecord = {
      name: config.name,
      version: this.registry.nextVersion(config.name),
      config,
      handler: info.handler,
      code,
      ...(secrets ? { secrets } : {}),
      digest,
      deployedAt: new Date().toISOString(),
    };
    await this.registry.put(record);
    return { record, changed: true };
  }

  /**
   * Sets or removes secrets of the current version without a new bundle: a new version with the same
   * code and configuration (SPEC §6). Null when there is no such function; unchanged when nothing changed.
   */
  changeSecrets(name: string, change: { set?: Record<string, string>; remove?: string[] }): Promise<DeployResult | null> {
    return this.serially(async () => {
      await this.registry.sync();
      const current = this.registry.get(name);
      if (!current) return null;
      const secrets = updateSecrets(this.secretKey, name, current.secrets, change);
      const digest = recordDigest(current.code, current.config, secrets);
      if (digest === current.digest) return { record: current, changed: false };
      const { secrets: _old, ...rest } = current;
      const record: FunctionRecord = {
        ...rest,
        ...(secrets ? { secrets } : {}),
        version: this.registry.nextVersion(name),
        digest,
        deployedAt: new Date().toISOString(),
      };
      await this.registry.put(record);
      return { record, changed: true };
    });
  }

  /**
   * Creates missing topics and gives a new consumer group its starting offsets. Retried a few times:
   * right after a topic is created its partitions may not have a leader yet (NOT_LEADER, UNKNOWN_TOPIC).
   */
  private async prepareTopicsAndGroup(config: FunctionConfig): Promise<void> {
    const dlt = deadLetterTopic(config);
    await retryRetriable(async () => {
      await ensureTopics(this.admin, dlt ? [...config.topics, dlt] : config.topics);
      // "earliest" needs no pin: a group without offsets starts at the log's start whenever it joins, and
      // pinning costs a group join (~0.3 s) on the way to the first record.
      if (config.startFrom === "latest") await pinNewGroupOffsets(this.kafka, this.admin, consumerGroupId(this.topicPrefix, config.name), config.topics);
    });
  }
}
