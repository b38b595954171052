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
  /** sha256 of code and config: a deploy that changes neither keeps the version. */
  digest: string;
  deployedAt: string;
}

/** The consumer group of a function (SPEC §5: `eddy.<name>` with the default prefix). */
export function consumerGroupId(topicPrefix: string, name: string): string {
  return `${topicPrefix}${name}`;
}
