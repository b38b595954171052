import type { Kafka } from "kafkajs";
import type { FunctionRecord } from "../config/function-record.js";
import { CompactedTopic, type KeyedMessage } from "./compacted-topic.js";
import { RegistryState, versionKey, type FunctionEntry } from "./registry-state.js";

export type { FunctionEntry } from "./registry-state.js";

/** Large enough for a bundled function; the broker default (1 MB) is not. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Versions kept per function (each holds a bundle); older ones are deleted when a new one is stored. The current one always stays. */
export const MAX_VERSIONS_KEPT = 20;

type ChangeListener = (name: string, entry: FunctionEntry | null) => void;

/**
 * The deployed functions, kept in a compacted topic with one partition: the log is the registry.
 * Every instance rebuilds its state by reading the topic from the start, then follows it, so a deploy
 * made through another instance reaches this one too.
 *
 * Writes are applied only as they come back from the log, never directly: the log's order is the one
 * truth, and a write answers only once every in-sync replica has it and this instance has read it back.
 */
export class FunctionRegistry {
  private readonly state = new RegistryState();
  private readonly listeners: ChangeListener[] = [];
  private log!: CompactedTopic;

  private constructor() {}

  static async open(kafka: Kafka, topic: string): Promise<FunctionRegistry> {
    const registry = new FunctionRegistry();
    registry.log = await CompactedTopic.open(kafka, topic, (key, value) => registry.applyRecord(key, value), { maxMessageBytes: MAX_RECORD_BYTES });
    return registry;
  }

  private applyRecord(key: string, value: string | null): void {
    const change = this.state.apply(key, value);
    if (change) for (const listener of this.listeners) listener(change.name, change.entry);
  }

  /** Waits until everything written so far (by any instance) has been applied here. */
  sync(): Promise<void> {
    return this.log.sync();
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  list(): FunctionRecord[] {
    return this.state.entries().map((e) => e.record);
  }

  entries(): FunctionEntry[] {
    return this.state.entries();
  }

  get(name: string): FunctionRecord | undefined {
    return this.state.entry(name)?.record;
  }

  entry(name: string): FunctionEntry | undefined {
    return this.state.entry(name);
  }

  /** Every stored version of the function, oldest first (empty when it is not deployed). */
  versions(name: string): FunctionRecord[] {
    return this.state.entry(name) ? this.state.history(name) : [];
  }

  nextVersion(name: string): number {
    return this.state.nextVersion(name);
  }

  /** Stores a new version and makes it current (keeping an operator's pause); trims the oldest versions. */
  async put(record: FunctionRecord): Promise<void> {
    const paused = this.state.entry(record.name)?.paused ?? false;
    const messages: KeyedMessage[] = [
      { key: versionKey(record.name, record.version), value: JSON.stringify(record) },
      { key: record.name, value: JSON.stringify({ version: record.version, paused }) },
    ];
    const older = this.state.history(record.name).filter((r) => r.version !== record.version);
    const current = this.state.entry(record.name)?.record.version;
    for (const old of older.slice(0, Math.max(0, older.length - (MAX_VERSIONS_KEPT - 1)))) {
      if (old.version !== current) messages.push({ key: versionKey(record.name, old.version), value: null });
    }
    await this.write(messages);
  }

  /** Makes a stored version current again. */
  async setCurrent(name: string, version: number): Promise<void> {
    await this.write([{ key: name, value: JSON.stringify({ version, paused: this.state.entry(name)?.paused ?? false }) }]);
  }

  /** Records an operator's pause or resume, so that every instance (and a restarted one) keeps it. */
  async setPaused(name: string, paused: boolean): Promise<void> {
    const entry = this.state.entry(name);
    if (!entry || entry.paused === paused) return;
    await this.write([{ key: name, value: JSON.stringify({ version: entry.record.version, paused }) }]);
  }

  /** Removes a function and its history (tombstones, which compaction eventually erases). The pointer goes first. */
  async remove(name: string): Promise<void> {
    const versions = this.state.history(name).map((r) => ({ key: versionKey(name, r.version), value: null }));
    await this.write([{ key: name, value: null }, ...versions]);
  }

  /** Writes in one request (one partition: all or nothing, in order), acked by every in-sync replica, then waits to read it back. */
  private write(messages: KeyedMessage[]): Promise<void> {
    return this.log.write(messages);
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
