import { readFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import { dirname } from "node:path";
import { Kafka } from "kafkajs";

const require = createRequire(import.meta.url);

/** What kafkajs 2.2.4's sendMessages does with one attempt's produce requests, one per partition leader. */
const RACE = "await Promise.all(requests)";
/** Every request of the attempt settles before the attempt fails and the next one starts. */
const SETTLED =
  "const settled = await Promise.allSettled(requests); " +
  "const failed = settled.find(result => result.status === 'rejected'); " +
  "if (failed) throw failed.reason /* patched by eddy: runtime/kafka/produce-retry-patch.ts */";

let patched: typeof Kafka | undefined;

/**
 * kafkajs' Kafka class with its producer's retry made safe on a cluster of several brokers.
 *
 * A send (or a transaction's sendBatch) to partitions led by several brokers makes one produce request per
 * broker side by side. When one fails with a retriable error (CONCURRENT_TRANSACTIONS from
 * AddPartitionsToTxn right after the last commit, NOT_LEADER while a broker dies), kafkajs 2.2.4 retries at
 * once, and sends again to every broker that has not answered *yet*, including those whose request is
 * still in flight; the per-broker lock makes the new request wait for the old one, which then succeeds,
 * and the new one goes out with the next sequence numbers: the records are written twice, inside the
 * same transaction, and a read_committed consumer sees both. (The fault test on three nodes caught
 * about one batch in fifty written twice under exactly-once, with no fault at all.) With the patch the
 * attempt fails only once all its requests have settled, so the retry goes only to brokers that did not
 * write.
 *
 * kafkajs captures sendMessages when its modules load, so the patch compiles a patched copy of that one
 * file and loads fresh copies of the three modules above it (messageProducer, producer, the client);
 * everything else (errors, network, partitioners) is kafkajs' own, shared. A kafkajs whose sendMessages
 * differs from 2.2.4's is used as it is.
 *
 * @example
 * const kafka = new (patchedKafkaClass())({ clientId: "eddy", brokers: ["127.0.0.1:9092"] });
 */
export function patchedKafkaClass(): typeof Kafka {
  patched ??= loadPatched();
  return patched;
}

/**
 * kafkajs' sendMessages module compiled with the patch, or null when its source is not 2.2.4's (then
 * nothing is patched). Exported for its test.
 */
export function patchedSendMessagesModule(): Module | null {
  const sendMessagesFile = require.resolve("kafkajs/src/producer/sendMessages.js");
  const source = readFileSync(sendMessagesFile, "utf8");
  if (source.split(RACE).length !== 2) return null;
  const sendMessages = new Module(sendMessagesFile) as Module & { _compile(code: string, file: string): void };
  sendMessages.filename = sendMessagesFile;
  sendMessages.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(dirname(sendMessagesFile));
  sendMessages._compile(source.replace(RACE, SETTLED), sendMessagesFile);
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
