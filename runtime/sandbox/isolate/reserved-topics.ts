import type { ReservedTopics } from "../wire.js";

/**
 * Why a function may not emit to `topic`, or undefined when it may. Runs in the harness (for a
 * readable error at the emit) and on the host (which enforces it: the harness shares its context
 * with the function and cannot be trusted).
 */
export function reservedTopicProblem(topic: string, reserved: ReservedTopics): string | undefined {
  if (reserved.exact.includes(topic)) {
    return `ctx.emit: topic "${topic}" is Eddy's function registry; functions cannot write to it`;
  }
  for (const prefix of reserved.prefixes) {
    if (!topic.startsWith(prefix)) continue;
    return prefix === "__"
      ? `ctx.emit: topic "${topic}" is internal to Kafka (topics starting with "__"); functions cannot write to it`
      : `ctx.emit: topic "${topic}" belongs to Eddy (topics starting with "${prefix}"); functions cannot write to it`;
  }
  return undefined;
}
