import { createRequire } from "node:module";

/** Work that must finish before a member of `groupId` in this process rejoins its group. */
type BeforeRejoin = () => Promise<void>;

interface ConsumerGroupClass {
  prototype: { groupId: string; joinAndSync(this: { groupId: string }): Promise<unknown> };
}

const PATCHED = Symbol.for("eddy.kafkajs.rejoinHookPatched");
const hooks = new Map<string, Set<BeforeRejoin>>();

/**
 * Runs `beforeRejoin` whenever a consumer of `groupId` in this process is about to join or rejoin its
 * group, and joins only once it settled (at most `limitMs`). Why: kafkajs rejoins at once when a
 * rebalance starts, while an exactly-once transaction of records it is about to lose may still be
 * committing; the partition's next owner would then read the offsets from before that transaction and
 * process its records again (kafkajs' OffsetFetch cannot ask for stable offsets, KIP-447). The group
 * cannot finish the rebalance without this member, so waiting here closes that window.
 * @returns a function that removes the hook
 */
export function beforeGroupRejoin(groupId: string, beforeRejoin: BeforeRejoin, limitMs: number): () => void {
  patchConsumerGroup();
  const limited: BeforeRejoin = () => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
    return Promise.race([beforeRejoin().catch(() => undefined), limit]).finally(() => clearTimeout(timer));
  };
  const set = hooks.get(groupId) ?? new Set<BeforeRejoin>();
  set.add(limited);
  hooks.set(groupId, set);
  return () => {
    set.delete(limited);
    if (set.size === 0) hooks.delete(groupId);
  };
}

export function patchConsumerGroup(ConsumerGroup: ConsumerGroupClass = loadConsumerGroup()): void {
  const prototype = ConsumerGroup.prototype as ConsumerGroupClass["prototype"] & { [PATCHED]?: true };
  if (prototype[PATCHED]) return;
  const joinAndSync = prototype.joinAndSync;
  prototype.joinAndSync = async function (this: { groupId: string }) {
    const waiting = [...(hooks.get(this.groupId) ?? [])];
    if (waiting.length > 0) await Promise.all(waiting.map((hook) => hook()));
    return joinAndSync.call(this);
  };
  prototype[PATCHED] = true;
}

function loadConsumerGroup(): ConsumerGroupClass {
  return createRequire(import.meta.url)("kafkajs/src/consumer/consumerGroup.js") as ConsumerGroupClass;
}
