import { describe, expect, it } from "vitest";
import { beforeGroupRejoin, patchConsumerGroup } from "./rejoin-hook.js";

/** Stands in for kafkajs' ConsumerGroup: records when it (re)joins. */
class FakeGroup {
  static order: string[] = [];
  constructor(readonly groupId: string) {}
  async joinAndSync(): Promise<void> {
    FakeGroup.order.push(`join ${this.groupId}`);
  }
}
patchConsumerGroup(FakeGroup as never);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("beforeGroupRejoin", () => {
  it("joins only after the group's hook settled, and other groups at once", async () => {
    FakeGroup.order = [];
    const remove = beforeGroupRejoin("g1", async () => {
      await sleep(30);
      FakeGroup.order.push("flushed g1");
    }, 1_000);
    await Promise.all([new FakeGroup("g1").joinAndSync(), new FakeGroup("g2").joinAndSync()]);
    expect(FakeGroup.order).toEqual(["join g2", "flushed g1", "join g1"]);
    remove();
    FakeGroup.order = [];
    await new FakeGroup("g1").joinAndSync();
    expect(FakeGroup.order).toEqual(["join g1"]);
  });

  it("does not wait past its limit, nor on a hook that fails", async () => {
    const removeHung = beforeGroupRejoin("g3", () => new Promise<void>(() => {}), 50);
    const removeFailing = beforeGroupRejoin("g3", () => Promise.reject(new Error("flush failed")), 50);
    const startedAt = Date.now();
    FakeGroup.order = [];
    await new FakeGroup("g3").joinAndSync();
    expect(FakeGroup.order).toEqual(["join g3"]);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    removeHung();
    removeFailing();
  });
});

describe("evictBeforeJoin", () => {
  it("sends a LeaveGroup for each dead member before the first join only, and tolerates members already gone", async () => {
    const { evictBeforeJoin } = await import("./evict-members.js");
    const left: string[] = [];
    class GroupWithCluster extends FakeGroup {
      readonly cluster = {
        findGroupCoordinator: async ({ groupId }: { groupId: string }) => ({
          leaveGroup: async ({ memberId }: { groupId: string; memberId: string }) => {
            if (memberId === "gone") throw new Error("UNKNOWN_MEMBER_ID");
            left.push(`${groupId}/${memberId}`);
          },
        }),
      };
    }
    FakeGroup.order = [];
    evictBeforeJoin("g4", ["gone", "dead-1"]);
    await new GroupWithCluster("g4").joinAndSync();
    await new GroupWithCluster("g4").joinAndSync();
    expect(left).toEqual(["g4/dead-1"]);
    expect(FakeGroup.order).toEqual(["join g4", "join g4"]);
  });
});
