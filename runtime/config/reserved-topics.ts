/**
 * Topics no function may consume or emit to: Eddy's own (the registry, everything under the topic
 * prefix: consumer state, tokens, future internal topics) and Kafka's internal `__*` topics. One list
 * for deploy (source topics) and for the sandbox (ctx.emit). Imports nothing: the in-isolate harness
 * bundles it too.
 */
export interface ReservedTopics {
  exact: string[];
  prefixes: string[];
  /** A stateful function's own changelog (`<name>.state`): only its state writes may go there. */
  changelogs?: string[];
}

const REGISTRY_TOPIC = "eddy.functions";

export function reservedTopicsFor(topicPrefix = "eddy."): ReservedTopics {
  const prefixes = ["__"];
  if (topicPrefix.length > 0) prefixes.push(topicPrefix);
  return { exact: [REGISTRY_TOPIC, `${topicPrefix}functions`], prefixes };
}

/** Why `topic` is out of reach ("is Eddy's function registry", …), or undefined when it is a user topic. */
export function reservedTopicReason(topic: string, reserved: ReservedTopics): string | undefined {
  if (reserved.changelogs?.includes(topic)) return `"${topic}" is this function's state changelog (ctx.state writes it)`;
  if (reserved.exact.includes(topic)) return `"${topic}" is Eddy's function registry`;
  for (const prefix of reserved.prefixes) {
    if (!topic.startsWith(prefix)) continue;
    return prefix === "__" ? `"${topic}" is internal to Kafka (topics starting with "__")` : `"${topic}" belongs to Eddy (topics starting with "${prefix}")`;
  }
  return undefined;
}
