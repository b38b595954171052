import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Admin } from "kafkajs";
import { readGroup } from "../../runtime/scaler/lag-observer.js";
import { commitAsMember } from "../../runtime/kafka/topics.js";
import { ensureTopic, produceMessages, unique } from "../dispatcher/support.js";
import { testKafka } from "../helpers/kafka.js";

/** Where KEDA's Kafka scaler is known to be wrong, read against the real broker with the admin client only. */
describe("the lag observer on the real broker", () => {
  let admin: Admin;
  const topic = unique("observed");

  beforeAll(async () => {
    admin = testKafka().admin();
    await admin.connect();
    await ensureTopic(topic, 3);
    // 100 records on partition 0, none on the others.
    await produceMessages(topic, Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: String(i), partition: 0 })));
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it("counts a group with no committed offset from where it would start, not from the log start", async () => {
    const group = unique("never-committed");
    expect((await readGroup(admin, group, [topic], "latest")).sample.lag).toBe(0);
    expect((await readGroup(admin, group, [topic], "earliest")).sample.lag).toBe(100);
  });

  it("sees one lagging partition among idle ones", async () => {
    const group = unique("one-lagging");
    await commitAsMember(testKafka(), group, [topic], [0, 1, 2].map((partition) => ({ topic, partition, offset: "0" })));
    const { sample, partitions } = await readGroup(admin, group, [topic], "latest");
    expect(sample).toMatchObject({ lag: 100, partitions: 3, laggingPartitions: 1 });
    expect(partitions.map((p) => p.lag)).toEqual([100, 0, 0]);
  });

  it("does not count records deleted by retention as lag, and never counts negative lag", async () => {
    const deletedTopic = unique("retention");
    await ensureTopic(deletedTopic, 1);
    await produceMessages(deletedTopic, Array.from({ length: 50 }, (_, i) => ({ key: null, value: String(i) })));
    const group = unique("behind-retention");
    await commitAsMember(testKafka(), group, [deletedTopic], [{ topic: deletedTopic, partition: 0, offset: "10" }]);
    expect((await readGroup(admin, group, [deletedTopic], "latest")).sample.lag).toBe(40);
    // Retention (here forced with DeleteRecords) removes the first 30 records: the group could only resume at 30.
    await admin.deleteTopicRecords({ topic: deletedTopic, partitions: [{ partition: 0, offset: "30" }] });
    expect((await readGroup(admin, group, [deletedTopic], "latest")).sample.lag).toBe(20);
    // A committed offset past the end (e.g. after the topic was recreated smaller) is no lag, not a negative one.
    await commitAsMember(testKafka(), group, [deletedTopic], [{ topic: deletedTopic, partition: 0, offset: "500" }]);
    const past = await readGroup(admin, group, [deletedTopic], "latest");
    expect(past.sample.lag).toBe(0);
    expect(past.partitions[0]!.lag).toBe(0);
  });

  it("sums log ends and positions, so that their growth is what arrived and what was finished", async () => {
    const group = unique("sums");
    await commitAsMember(testKafka(), group, [topic], [0, 1, 2].map((partition) => ({ topic, partition, offset: "0" })));
    const before = (await readGroup(admin, group, [topic], "latest")).sample;
    await produceMessages(topic, Array.from({ length: 30 }, (_, i) => ({ key: null, value: String(i), partition: i % 3 })));
    await commitAsMember(testKafka(), group, [topic], [{ topic, partition: 1, offset: "10" }]);
    const after = (await readGroup(admin, group, [topic], "latest")).sample;
    expect(after.endOffsets - before.endOffsets).toBe(30);
    expect(after.committed - before.committed).toBe(10);
    expect(after.lag).toBe(before.lag + 20);
  });
});
