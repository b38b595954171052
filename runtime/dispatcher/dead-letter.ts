import type { SandboxRecord, SerializedError } from "../sandbox/function-sandbox.js";

const STACK_LIMIT_BYTES = 4 * 1024;

/** Who dead-lettered a record, for the `eddy-dlt-*` headers. */
export interface DeadLetterSource {
  functionName: string;
  functionVersion: number;
  consumerGroup: string;
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  // Cutting bytes may split a character; decoding drops the broken tail.
  return bytes.subarray(0, maxBytes).toString("utf8").replace(/\uFFFD$/, "");
}

/**
 * The dead-letter copy of a record (SPEC §5): original key, value and headers, with the `eddy-dlt-*`
 * headers replaced (never stacked) by this failure's.
 */
export function deadLetterMessage(
  record: SandboxRecord,
  error: SerializedError,
  attempts: number,
  source: DeadLetterSource,
  failedAt: Date = new Date(),
): { key: string | null; value: Buffer | null; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (!name.startsWith("eddy-dlt-")) headers[name] = value;
  }
  Object.assign(headers, {
    "eddy-dlt-original-topic": record.topic,
    "eddy-dlt-original-partition": String(record.partition),
    "eddy-dlt-original-offset": record.offset,
    "eddy-dlt-original-timestamp": String(record.timestamp),
    "eddy-dlt-function": source.functionName,
    "eddy-dlt-function-version": String(source.functionVersion),
    "eddy-dlt-consumer-group": source.consumerGroup,
    "eddy-dlt-attempts": String(attempts),
    "eddy-dlt-error-name": error.name,
    "eddy-dlt-error-message": error.message,
    "eddy-dlt-error-stack": truncateUtf8(error.stack ?? "", STACK_LIMIT_BYTES),
    "eddy-dlt-failed-at": failedAt.toISOString(),
  });
  return {
    key: record.key,
    value: record.value === null ? null : Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength),
    headers,
  };
}
