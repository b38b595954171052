import { readFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { Kafka } from "kafkajs";
import { createSendMessages } from "./send-messages.js";

const require = createRequire(import.meta.url);

/** What kafkajs 2.2.4's sendMessages does with one attempt's produce requests: the mark of the version it replaces. */
const RACE = "await Promise.all(requests)";

let patched: typeof Kafka | undefined;

/**
 * kafkajs' Kafka class with its producer's retry made safe on a cluster of several brokers.
 *
 * A send (or a transaction's sendBatch) to partitions led by several brokers makes one produce request per
 * broker side by side. kafkajs 2.2.4 retries a failed attempt at once, sending again to brokers whose
 * request is still in flight (records written twice, inside one committed transaction: about one batch in
 * fifty on three nodes with no fault at all), and skips on a retry every broker that answered before, even
 * when a dead leader's partitions have moved to it (records never sent, the send reported a success: 64
 * lost by at-least-once in the leader-kill fault test). send-messages.ts does neither; see there.
 *
 * kafkajs captures sendMessages when its modules load, so Eddy's version takes that file's place in the
 * module cache while fresh copies of the three modules above it load (messageProducer, producer, the
 * client); everything else (errors, network, partitioners) is kafkajs' own, shared. A kafkajs whose
 * sendMessages differs from 2.2.4's is used as it is.
 *
 * @example
 * const kafka = new (patchedKafkaClass())({ clientId: "eddy", brokers: ["127.0.0.1:9092"] });
 */
export function patchedKafkaClass(): typeof Kafka {
  patched ??= loadPatched();
  return patched;
}

/**
 * Eddy's sendMessages (send-messages.ts) as a module in the place of kafkajs' own file, or null when
 * kafkajs' file is not 2.2.4's (then nothing is patched). Exported for its test.
 */
export function patchedSendMessagesModule(): Module | null {
  const sendMessagesFile = require.resolve("kafkajs/src/producer/sendMessages.js");
  if (readFileSync(sendMessagesFile, "utf8").split(RACE).length !== 2) return null;
  const sendMessages = new Module(sendMessagesFile);
  sendMessages.filename = sendMessagesFile;
  sendMessages.exports = createSendMessages(sendMessagesFile);
  sendMessages.loaded = true;
  return sendMessages;
}

function loadPatched(): typeof Kafka {
  const sendMessages = patchedSendMessagesModule();
  if (sendMessages === null) return Kafka;
  const sendMessagesFile = sendMessages.filename;

  const fresh = ["kafkajs/src/producer/messageProducer.js", "kafkajs/src/producer/index.js", "kafkajs/src/index.js"].map((m) => require.resolve(m));
  const saved = [sendMessagesFile, ...fresh].map((file) => [file, require.cache[file]] as const);
  try {
    for (const file of fresh) delete require.cache[file];
    require.cache[sendMessagesFile] = sendMessages;
    // kafkajs' own index.js exports this class as `Kafka`.
    return require(require.resolve("kafkajs/src/index.js")) as typeof Kafka;
  } finally {
    // kafkajs as others import it stays as it was.
    for (const [file, module] of saved) {
      if (module === undefined) delete require.cache[file];
      else require.cache[file] = module;
    }
  }
}
