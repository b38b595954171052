import { createRequire } from "node:module";

/* eslint-disable @typescript-eslint/no-explicit-any -- kafkajs' internals are untyped JavaScript. */

/**
 * kafkajs 2.2.4's `src/producer/sendMessages.js`, rewritten by Eddy where it loses or doubles records on
 * a cluster of several brokers (loaded in its place by produce-retry-patch.ts; the rest is kafkajs' own):
 * 1. An attempt fails only once every one of its produce requests has settled, so a retry never sends
 *    again to a broker whose request is still in flight (kafkajs wrote those records twice, inside one
 *    committed transaction).
 * 2. What was written is tracked per partition, not per broker. kafkajs skipped, on a retry, every broker
 *    that had answered an earlier attempt; when a dead leader's partitions moved to such a broker, their
 *    records were never sent and the send still succeeded (the leader-kill fault test lost 64 records
 *    under at-least-once that way).
 * 3. Records are grouped into partitions once, at the first attempt, so that a record without a key
 *    cannot land on another partition in a retry.
 * 4. An idempotent producer sends one batch at a time, retries included, and a non-transactional one
 *    takes a fresh producer id before the send that follows a failed one. A failed request may have
 *    been written anyway (the leader died before answering, or the broker wrote some partitions of
 *    the request and refused others); kafkajs rolls the partition's sequence number back and the next
 *    batch reuses it, which the broker takes for a retry of the written batch and drops as a
 *    duplicate: those records were acknowledged and never written. Within one send the retry carries
 *    the same records under the same sequence numbers, so the broker drops exactly the batches it
 *    already holds: a retry there keeps the producer id (a fresh one would write those batches twice,
 *    as the replay test saw when a new topic's leaders were still being elected). Transactions reuse
 *    the sequence across an abort the same way: TransactionalSink takes a new epoch after a failed
 *    transaction (the leader-kill fault test lost 36 exactly-once records so).
 *
 * @param sendMessagesFile kafkajs' own file: its relative requires are resolved from there.
 */
export function createSendMessages(sendMessagesFile: string): (deps: any) => (send: any) => Promise<any[]> {
  const kafkajs = createRequire(sendMessagesFile);
  const { KafkaJSMetadataNotLoaded } = kafkajs("../errors");
  const { staleMetadata } = kafkajs("../protocol/error");
  const groupMessagesPerPartition = kafkajs("./groupMessagesPerPartition");
  const createTopicData = kafkajs("./createTopicData");
  const responseSerializer = kafkajs("./responseSerializer");

  return ({ logger, cluster, partitioner, eosManager, retrier }: any) => {
    const sendOnce = async ({ acks, timeout, compression, topicMessages }: any): Promise<any[]> => {
      /** "topic\0partition" of every partition whose records a broker acknowledged. */
      const written = new Set<string>();
      const responses: any[] = [];
      /** Per topic, its records by partition, decided at the first attempt. */
      const grouped = new Map<string, Record<string, any[]>>();

      const produceTo = async (broker: any, topicMetadata: Map<string, any>): Promise<void> => {
        const topicData = createTopicData(
          [...topicMetadata.entries()]
            .filter(([, { partitionsPerLeader }]) => partitionsPerLeader[broker.nodeId]?.length > 0)
            .map(([topic, { partitionsPerLeader, messagesPerPartition }]) => ({ topic, partitions: partitionsPerLeader[broker.nodeId], messagesPerPartition })),
        );
        await eosManager.acquireBrokerLock(broker);
        try {
          if (eosManager.isTransactional()) await eosManager.addPartitionsToTransaction(topicData);
          const eachEntry = (fn: (topic: string, entry: any) => void) => topicData.forEach(({ topic, partitions }: any) => partitions.forEach((entry: any) => fn(topic, entry)));
          eachEntry((topic, entry) => {
            entry.firstSequence = eosManager.getSequence(topic, entry.partition);
            eosManager.updateSequence(topic, entry.partition, entry.messages.length);
          });
          let response;
          try {
            response = await broker.produce({
              transactionalId: eosManager.isTransactional() ? eosManager.getTransactionalId() : undefined,
              producerId: eosManager.getProducerId(),
              producerEpoch: eosManager.getProducerEpoch(),
              acks,
              timeout,
              compression,
              topicData,
            });
          } catch (error) {
            eachEntry((topic, entry) => eosManager.updateSequence(topic, entry.partition, -entry.messages.length));
            throw error;
          }
          if (acks !== 0) responses.push(...responseSerializer(response));
          eachEntry((topic, entry) => written.add(`${topic}\u0000${entry.partition}`));
        } finally {
          await eosManager.releaseBrokerLock(broker);
        }
      };

      /** One produce request per leader of a partition not written yet. */
      const createProducerRequests = async (): Promise<Promise<void>[]> => {
        const topicMetadata = new Map<string, any>();
        const brokers = new Map<string, any>();
        await cluster.refreshMetadataIfNecessary();
        for (const { topic, messages } of topicMessages) {
          const partitionMetadata = cluster.findTopicPartitionMetadata(topic);
          if (partitionMetadata.length === 0) {
            logger.debug("Producing to topic without metadata", { topic, targetTopics: Array.from(cluster.targetTopics) });
            throw new KafkaJSMetadataNotLoaded("Producing to topic without metadata");
          }
          if (!grouped.has(topic)) grouped.set(topic, groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }));
          const messagesPerPartition = grouped.get(topic)!;
          const partitions = Object.keys(messagesPerPartition).filter((partition) => !written.has(`${topic}\u0000${partition}`));
          if (partitions.length === 0) continue;
          const partitionsPerLeader = cluster.findLeaderForPartitions(topic, partitions);
          topicMetadata.set(topic, { partitionsPerLeader, messagesPerPartition });
          for (const nodeId of Object.keys(partitionsPerLeader)) {
            if (partitionsPerLeader[nodeId].length > 0 && !brokers.has(nodeId)) brokers.set(nodeId, await cluster.findBroker({ nodeId }));
          }
        }
        return [...brokers.values()].map((broker) => produceTo(broker, topicMetadata));
      };

      const attempts = retrier(async (bail: (error: Error) => never, retryCount: number, retryTime: number) => {
        await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }: any) => topic));
        try {
          if (usedSequences.has(eosManager)) {
            await eosManager.initProducerId();
            usedSequences.delete(eosManager);
          }
          const settled = await Promise.allSettled(await createProducerRequests());
          const failed = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
          if (failed) throw failed.reason;
          return responses.slice();
        } catch (e: any) {
          // From here on as kafkajs 2.2.4 has it.
          if (e.name === "KafkaJSConnectionClosedError") cluster.removeBroker({ host: e.host, port: e.port });
          if (!cluster.isConnected()) {
            logger.debug(`Cluster has disconnected, reconnecting: ${e.message}`, { retryCount, retryTime });
            await cluster.connect();
            await cluster.refreshMetadata();
            throw e;
          }
          // The metadata may be stale (a leader moved, the topic gained partitions).
          if (
            staleMetadata(e) ||
            e.name === "KafkaJSMetadataNotLoaded" ||
            e.name === "KafkaJSConnectionError" ||
            e.name === "KafkaJSConnectionClosedError" ||
            (e.name === "KafkaJSProtocolError" && e.retriable)
          ) {
            logger.error(`Failed to send messages: ${e.message}`, { retryCount, retryTime });
            await cluster.refreshMetadata();
            throw e;
          }
          logger.error(`${e.message}`, { retryCount, retryTime });
          if (e.retriable) throw e;
          bail(e);
        }
      });
      return attempts.catch((error: unknown) => {
        if (eosManager.isInitialized() && !eosManager.isTransactional()) usedSequences.add(eosManager);
        throw error;
      });
    };

    return async (send: any): Promise<any[]> => {
      // Sequence numbers exist once the producer has an id (idempotent and transactional producers).
      if (!eosManager.isInitialized()) return sendOnce(send);
      const previous = sending.get(eosManager) ?? Promise.resolve();
      const mine = previous.then(() => sendOnce(send));
      sending.set(eosManager, mine.catch(() => undefined));
      return mine;
    };
  };
}

/**
 * Idempotent producers (their eosManagers) whose last send failed, so the broker may hold sequence
 * numbers the producer rolled back: the next send takes a fresh producer id first (rule 4).
 */
const usedSequences = new WeakSet<object>();

/** Per producer (its eosManager), the send in progress: the next one starts when it settles. */
const sending = new WeakMap<object, Promise<unknown>>();
