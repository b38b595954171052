/** One partition's lag as the scaler counts it. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
  /** Where the group resumes: its committed offset, or where it would start, kept within the log. */
  position: bigint;
  /** The log end (high watermark). */
  end: bigint;
}

/**
 * Where a group stands on one partition, right where KEDA is known to be wrong (kedacore/keda#2612,
 * #5906, #7936):
 * - no committed offset ("-1") counts from where the group would start (`startFrom`), not from the
 *   log start: a new "latest" group has no lag;
 * - a committed offset below the log start (records deleted by retention) counts from the log start:
 *   deleted records are not lag, since no replica could ever read them;
 * - lag is never negative (a committed offset past the end, e.g. after the topic was recreated).
 */
export function partitionLag(
  topic: string,
  partition: number,
  offsets: { committed: string; low: string; high: string },
  startFrom: "earliest" | "latest",
): PartitionLag {
  const low = BigInt(offsets.low);
  const end = BigInt(offsets.high);
  const committed = BigInt(offsets.committed);
  const unset = committed < 0n;
  let position = unset ? (startFrom === "earliest" ? low : end) : committed;
  if (position < low) position = low;
  if (position > end) position = end;
  return { topic, partition, lag: Number(end - position), position, end };
}
