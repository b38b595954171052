import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopicsAndWait } from "../../runtime/kafka/topics.js";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { testKafka } from "../helpers/kafka.js";
import { deploy, ensureTopic, eventually, functionStatus, LiveReader, produceMessages, startEddy, stopEddy, unique, workerPids } from "../dispatcher/support.js";

describe("a function's topic deleted while it runs", () => {
  const prefix = unique("topic-gone");
  let eddy: EddyProcess;

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
  });

  it("shows a clear error state in the status and the logs, the control plane keeps serving, and the function goes on once the topic is back", async () => {
    const [name, topic, out] = [unique("gone"), unique("gone-in"), unique("gone-out")];
    await ensureTopic(topic, 3);
    const reader = await LiveReader.start(out);
    await deploy(
      eddy,
      `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  async handle(event, ctx) {
    await ctx.emit(${JSON.stringify(out)}, event.key, { key: event.key });
  },
});`,
    );
    await produceMessages(topic, Array.from({ length: 30 }, (_, i) => ({ key: `a${i}`, value: String(i) })));
    await reader.waitFor(30, 30_000);

    const admin = testKafka().admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic] });
      // The status names the missing topic, and says what to do.
      expect(await eventually(async () => {
        const status = await functionStatus(eddy, name);
        return status.state === "failing" && (status.stateReason ?? "").includes(`topic '${topic}' does not exist`);
      }, 60_000)).toBe(true);
      const status = await functionStatus(eddy, name);
      expect(status.stateReason).toMatch(/create it again|redeploy/);
      expect(eddy.logs).toContain(`topic '${topic}' does not exist`);
      // The control plane is not crash-looping: it answers, and its own pid is the one that started.
      expect(eddy.child.exitCode).toBeNull();
      expect((await eddy.api("GET", "/v1/functions")).status).toBe(200);
      // Nothing made the topic again behind the user's back (no auto-creation by Eddy's clients).
      expect(await admin.listTopics()).not.toContain(topic);

      // Created again (as an operator would), with new records: the function goes on by itself.
      // Eddy's own wait: kafkajs' waitForLeaders fails with UNKNOWN_TOPIC_OR_PARTITION while the broker still forgets the deleted topic.
      await createTopicsAndWait(admin, [{ topic, numPartitions: 3 }]);
    } finally {
      await admin.disconnect();
    }
    await produceMessages(topic, Array.from({ length: 20 }, (_, i) => ({ key: `b${i}`, value: String(i) })));
    await reader.waitFor(50, 120_000, 500);
    const keys = new Set(reader.messages.map((m) => m.key!.toString()));
    expect(keys.size).toBe(50);
    expect(await eventually(async () => (await functionStatus(eddy, name)).state === "running", 60_000)).toBe(true);
    expect((await workerPids(eddy)).length).toBe(1);
    await reader.stop();
  }, 300_000);
});
