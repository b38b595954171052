import { log } from "../log.js";
import { beforeGroupRejoin, type JoiningGroup } from "./rejoin-hook.js";

/** How long the eviction may hold up the join; past it the group waits out the dead members' sessions as before. */
const EVICT_LIMIT_MS = 5_000;

/**
 * Before this process' consumer of `groupId` first joins, removes `memberIds` (members of crashed
 * workers that were this replica's predecessors) from the group with a LeaveGroup on their behalf.
 * Why: a member that died without leaving stays in the group until its session times out (at least
 * 10 s, the function's timeout + 5 s), and the rebalance that the restarted worker's join starts
 * waits for it all that time. A member already gone is not an error.
 */
export function evictBeforeJoin(groupId: string, memberIds: readonly string[]): void {
  let remove: (() => void) | undefined;
  const evict = async (group: JoiningGroup): Promise<void> => {
    remove?.();
    if (group.cluster === undefined) return;
    const coordinator = await group.cluster.findGroupCoordinator({ groupId });
    for (const memberId of memberIds) {
      try {
        await coordinator.leaveGroup({ groupId, memberId });
        log.info({ groupId, memberId }, "removed a crashed worker's member from the group");
      } catch (error) {
        // UNKNOWN_MEMBER_ID: its session already ended.
        log.debug({ err: error, groupId, memberId }, "could not remove a crashed worker's member");
      }
    }
  };
  remove = beforeGroupRejoin(groupId, evict, EVICT_LIMIT_MS);
}
