import { EddyError } from "../eddy-error.js";

/** Every code the local Kafka manager raises. Callers check `error.code`, never `instanceof`. */
export const KAFKA_ERROR_CODES = [
  "EDDY_JAVA_MISSING",
  "EDDY_MAVEN_MISSING",
  "EDDY_KAFKA_HOME_INVALID",
  "EDDY_KAFKA_RESOLVE_FAILED",
  "EDDY_BROKER_START_FAILED",
  "EDDY_BROKER_TIMEOUT",
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
