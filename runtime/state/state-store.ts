import type { StateReader, StateWrite } from "../sandbox/function-sandbox.js";

/** A replica's state store, as the function's status shows it (summed over replicas). */
export interface StoreStatus {
  keys: number;
  bytes: number;
  /** Partitions whose state is being restored (nothing of them runs meanwhile). */
  restoring: number;
}

/** One key's state as the store keeps it: JSON text. */
type PartitionState = Map<string, string>;

/**
 * A worker's copy of its function's state (`ctx.state`), for the partitions it owns: JSON text by key,
 * per partition. The changelog topic is the durable copy; this one is what invocations read. It is
 * filled by a restore when a partition is assigned, changed by the writes of records that succeeded,
 * and dropped when the partition leaves. `maxBytes` bounds keys and values together.
 */
export class StateStore {
  readonly #partitions = new Map<number, PartitionState>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** Keys and values held, in UTF-8 bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keys held, over all partitions. */
  get keys(): number {
    let keys = 0;
    for (const partition of this.#partitions.values()) keys += partition.size;
    return keys;
  }

  has(partition: number): boolean {
    return this.#partitions.has(partition);
  }

  partitions(): number[] {
    return [...this.#partitions.keys()];
  }

  /** What ctx.state reads in `partition`. */
  reader(partition: number): StateReader {
    return { get: (key) => this.#partitions.get(partition)?.get(key) };
  }

  /** A restored partition takes the place of whatever was held for it. */
  load(partition: number, values: Map<string, string>): void {
    this.drop(partition);
    this.#partitions.set(partition, values);
    for (const [key, value] of values) this.#bytes += entryBytes(key, value);
  }

  drop(partition: number): void {
    const values = this.#partitions.get(partition);
    if (values === undefined) return;
    for (const [key, value] of values) this.#bytes -= entryBytes(key, value);
    this.#partitions.delete(partition);
  }

  /** How many bytes the store would hold after `writes` (in order) in `partition`. */
  bytesAfter(partition: number, writes: readonly Pick<StateWrite, "key" | "value">[]): number {
    const values = this.#partitions.get(partition);
    const changed = new Map<string, string | null>();
    let bytes = this.#bytes;
    for (const { key, value } of writes) {
      const before = changed.has(key) ? changed.get(key)! : (values?.get(key) ?? null);
      if (before !== null) bytes -= entryBytes(key, before);
      if (value !== null) bytes += entryBytes(key, value);
      changed.set(key, value);
    }
    return bytes;
  }

  /** Applies writes of records that succeeded; a partition not held (lost meanwhile) takes none. */
  apply(partition: number, writes: readonly Pick<StateWrite, "key" | "value">[]): void {
    const values = this.#partitions.get(partition);
    if (values === undefined) return;
    for (const { key, value } of writes) {
      const before = values.get(key);
      if (before !== undefined) this.#bytes -= entryBytes(key, before);
      if (value === null) values.delete(key);
      else {
        values.set(key, value);
        this.#bytes += entryBytes(key, value);
      }
    }
  }
}

function entryBytes(key: string, value: string): number {
  return Buffer.byteLength(key) + Buffer.byteLength(value);
}
