import type { FunctionConfig } from "./function-config.js";

/**
 * A deployed version of a function, exactly as stored in the registry topic.
 * Everything a worker needs to run it travels in this one object.
 */
export interface FunctionRecord {
  name: string;
  version: number;
  config: FunctionConfig;
  handler: "handle" | "handleBatch";
  /** The esbuild bundle that runs in the isolate. */
  code: string;
  /** Write-only values sealed under Eddy's secret key (runtime/secrets/); absent when there are none. */
  secrets?: SealedSecrets;
  /** sha256 of code, config and the secrets' MACs: a deploy that changes none keeps the version. */
  digest: string;
  deployedAt: string;
}

/**
 * A function's secrets as the registry stores them: each value sealed with AES-256-GCM under Eddy's
 * secret key, bound to its function and name, plus a keyed MAC of the value so the control plane can
 * tell an unchanged secret from a changed one without ever decrypting it (runtime/secrets/).
 */
export interface SealedSecrets {
  /** Which key sealed them (a MAC of a constant under the key): another key is told apart without decrypting. */
  keyId: string;
  entries: Record<string, { sealed: string; mac: string }>;
}

/** The consumer group of a function (SPEC §5: `eddy.<name>` with the default prefix). */
export function consumerGroupId(topicPrefix: string, name: string): string {
  return `${topicPrefix}${name}`;
}
