import { reservedTopicReason, type ReservedTopics } from "../../config/reserved-topics.js";

/**
 * Why a function may not emit to `topic`, or undefined when it may. Runs in the harness (for a
 * readable error at the emit) and on the host (which enforces it: the harness shares its context
 * with the function and cannot be trusted).
 */
export function reservedTopicProblem(topic: string, reserved: ReservedTopics): string | undefined {
  const reason = reservedTopicReason(topic, reserved);
  return reason === undefined ? undefined : `ctx.emit: topic ${reason}; functions cannot write to it`;
}
