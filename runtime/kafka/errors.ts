import { EddyError } from "../eddy-error.js";

/** Every code the local Kafka manager raises. Callers check `error.code`, never `instanceof`. */
export const KAFKA_ERROR_CODES = [
  "EDDY_JAVA_MISSING",
  "EDDY_MAVEN_MISSING",
  "EDDY_KAFKA_HOME_INVALID",
  "EDDY_KAFKA_RESOLVE_FAILED",
  "EDDY_BROKER_START_FAILED",
  "EDDY_BROKER_TIMEOUT",
  "EDDY_KAFKA_NODES_INVALID",
  "EDDY_KAFKA_LAYOUT_MISMATCH",
  "EDDY_KAFKA_NODE_PORT_TAKEN",
] as const;

export type KafkaErrorCode = (typeof KAFKA_ERROR_CODES)[number];

const EXISTING_CLUSTER_HINT = "or point Eddy at an existing cluster with KAFKA_BROKERS=host:9092";

/** `found` is the major version `java -version` reported, or null when there is no `java` at all. */
export function javaMissing(found: number | null): EddyError {
  const what = found === null ? "no `java` was found on PATH" : `found Java ${found}`;
  return new EddyError(
    "EDDY_JAVA_MISSING",
    `Java 17 or newer is needed to run the local Kafka broker (${what}): install it ` +
      `(Debian: apt-get install openjdk-17-jre-headless) ${EXISTING_CLUSTER_HINT}`,
    { userError: true, context: { found } },
  );
}

export function mavenMissing(version: string): EddyError {
  return new EddyError(
    "EDDY_MAVEN_MISSING",
    `Maven is needed once to download Apache Kafka ${version} from Maven Central (no \`mvn\` on PATH): install it ` +
      `(Debian: apt-get install maven), set EDDY_KAFKA_HOME to an unpacked Apache Kafka, ${EXISTING_CLUSTER_HINT}`,
    { userError: true, context: { version } },
  );
}

export function kafkaHomeInvalid(kafkaHome: string, problem: string): EddyError {
  return new EddyError(
    "EDDY_KAFKA_HOME_INVALID",
    `EDDY_KAFKA_HOME=${kafkaHome}: ${problem}; point it at an unpacked Apache Kafka 3.9+ (the folder holding libs/) or unset it`,
    { userError: true, context: { kafkaHome } },
  );
}

/** `detail` is Maven's own first error line: it names the artifact or the network failure. */
export function kafkaResolveFailed(version: string, detail: string): EddyError {
  return new EddyError(
    "EDDY_KAFKA_RESOLVE_FAILED",
    `Could not download Apache Kafka ${version} from Maven Central: ${detail}. Check the network (or the proxy in ` +
      `~/.m2/settings.xml), set EDDY_KAFKA_HOME to an unpacked Apache Kafka, ${EXISTING_CLUSTER_HINT}`,
    { userError: true, retriable: true, context: { version } },
  );
}

/**
 * The broker process exited (or its storage could not be formatted) before it answered. `source` names
 * where `logTail` comes from (the broker log's path, or the format command); the tail says why.
 */
export function brokerStartFailed(reason: string, source: string, logTail: string): EddyError {
  const tail = logTail.trim() === "" ? "(nothing)" : logTail.trimEnd();
  return new EddyError(
    "EDDY_BROKER_START_FAILED",
    `The local Kafka broker did not start: ${reason}. Last lines of ${source}:\n${tail}`,
    { userError: true, context: { source } },
  );
}

export function brokerTimeout(what: string, timeoutMs: number, logFile: string): EddyError {
  return new EddyError(
    "EDDY_BROKER_TIMEOUT",
    `The local Kafka broker ${what} within ${Math.round(timeoutMs / 1000)} s; see ${logFile}, ` +
      `or stop it with \`eddy kafka stop\` and try again`,
    { userError: true, retriable: true, context: { timeoutMs, logFile } },
  );
}

/** `--brokers` (or `--node`) is not a count the local manager runs. */
export function kafkaNodesInvalid(option: string, found: string, supported: string): EddyError {
  return new EddyError("EDDY_KAFKA_NODES_INVALID", `${option}: expected ${supported}, got ${JSON.stringify(found)}`, {
    userError: true,
    context: { option, found },
  });
}

/**
 * The data dir holds a local Kafka of another shape than asked for: its nodes' data names their quorum,
 * so a single broker cannot become a cluster (nor 3 nodes 5) in place.
 */
export function kafkaLayoutMismatch(dir: string, has: number, asked: number): EddyError {
  const what = (n: number): string => (n === 1 ? "a single broker" : `a cluster of ${n} nodes`);
  return new EddyError(
    "EDDY_KAFKA_LAYOUT_MISMATCH",
    `${dir} holds ${what(has)}, not ${what(asked)}: start it with --brokers ${has}, use another data dir ` +
      `(--data-dir or EDDY_DATA_DIR), or stop it and delete ${dir} to start afresh (its topics are lost)`,
    { userError: true, context: { dir, has, asked } },
  );
}

/** A node's data was formatted for another cluster than its peers'. */
export function nodeOfOtherCluster(dir: string, found: string, expected: string): EddyError {
  return new EddyError(
    "EDDY_KAFKA_LAYOUT_MISMATCH",
    `${dir} was formatted for cluster ${found}, its peers for ${expected}: stop the cluster and delete ${dir} ` +
      "so that the node is formatted again and catches up from its peers",
    { userError: true, context: { dir, found, expected } },
  );
}

/**
 * A stopped node of a running cluster cannot move: its controller port is in the running nodes' voter
 * list. `port` is null when the node never ran (nothing remembers its ports).
 */
export function clusterPortTaken(node: number, port: number | null): EddyError {
  const why = port === null ? `node ${node} has no ports on record` : `port ${port} of node ${node} is taken by another process`;
  return new EddyError(
    "EDDY_KAFKA_NODE_PORT_TAKEN",
    `${why}, and the running nodes know it by its ports: stop the whole cluster (\`eddy kafka stop\`) and ` +
      "start it again, so that every node picks its ports afresh",
    { userError: true, retriable: true, context: { node, port } },
  );
}
