import { readFile } from "node:fs/promises";
import { Partitioners } from "kafkajs";
import { EddyError } from "../eddy-error.js";
import { createKafka, type KafkaConnection } from "../kafka/client.js";

/** One record of a `--produce` file. */
export interface SampleRecord {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

const RECORD_FIELDS = new Set(["key", "value", "headers"]);

/**
 * Reads a JSON Lines file of sample records: each line `{ "key"?, "value", "headers"? }`, or any other
 * JSON value, taken as the value. A string value is sent as it is, any other as JSON. Blank lines are
 * skipped; every bad line is named before failing.
 *
 * @throws EddyError `EDDY_CLI_BAD_PRODUCE_FILE` (userError) with one line per problem.
 */
export async function readSampleRecords(file: string): Promise<SampleRecord[]> {
  const text = await readFile(file, "utf8").catch(() => {
    throw new EddyError("EDDY_CLI_BAD_PRODUCE_FILE", `--produce: no file at ${file}`, { userError: true });
  });
  const records: SampleRecord[] = [];
  const problems: string[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      records.push(sampleRecord(JSON.parse(line) as unknown));
    } catch (error) {
      problems.push(`${file}:${index + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  if (problems.length > 0) throw new EddyError("EDDY_CLI_BAD_PRODUCE_FILE", `--produce: bad records\n  ${problems.join("\n  ")}`, { userError: true });
  return records;
}

function sampleRecord(json: unknown): SampleRecord {
  const isRecord = typeof json === "object" && json !== null && !Array.isArray(json) && "value" in json && Object.keys(json).every((k) => RECORD_FIELDS.has(k));
  if (!isRecord) return { key: null, value: asText(json), headers: {} };
  const { key, value, headers } = json as { key?: unknown; value: unknown; headers?: unknown };
  if (key !== undefined && key !== null && typeof key !== "string") throw new Error(`key: expected a string, got ${JSON.stringify(key)}`);
  const headerEntries = Object.entries(headers ?? {});
  if (typeof headers !== "undefined" && (typeof headers !== "object" || headers === null || headerEntries.some(([, v]) => typeof v !== "string"))) {
    throw new Error(`headers: expected an object of strings, got ${JSON.stringify(headers)}`);
  }
  // A null value is a tombstone, as Kafka has it.
  return { key: key ?? null, value: value === null ? null : asText(value), headers: Object.fromEntries(headerEntries) as Record<string, string> };
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Produces the records to the topic, in order, and waits for every in-sync replica's ack. */
export async function produceSampleRecords(connection: KafkaConnection, topic: string, records: SampleRecord[]): Promise<void> {
  const producer = createKafka(connection, "eddy-dev").producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: records });
  } finally {
    await producer.disconnect();
  }
}
