import { createRequire } from "node:module";

/** The part of kafkajs' ConsumerGroup a hook may use: its group and the cluster it reaches the coordinator through. */
export interface JoiningGroup {
  groupId: string;
  cluster?: { findGroupCoordinator(request: { groupId: string }): Promise<{ leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown> }> };
}

/** Work that must finish before a member of `groupId` in this process (re)joins its group. */
type BeforeRejoin = (group: JoiningGroup) => Promise<void>;

interface ConsumerGroupClass {
  prototype: { groupId: string; joinAndSync(this: JoiningGroup): Promise<unknown> };
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
  const limited: BeforeRejoin = (group) => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
    return Promise.race([beforeRejoin(group).catch(() => undefined), limit]).finally(() => clearTimeout(timer));
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
  prototype.joinAndSync = async function (this: JoiningGroup) {
    const waiting = [...(hooks.get(this.groupId) ?? [])];
    if (waiting.length > 0) await Promise.all(waiting.map((hook) => hook(this)));
    return joinAndSync.call(this);
  };
  prototype[PATCHED] = true;
}

function loadConsumerGroup(): ConsumerGroupClass {
  return createRequire(import.meta.url)("kafkajs/src/consumer/consumerGroup.js") as ConsumerGroupClass;
}
