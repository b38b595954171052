import type { FunctionRecord } from "../config/function-record.js";
import { log } from "../log.js";

/** A deployed function as the control plane sees it: its current version and whether an operator paused it. */
export interface FunctionEntry {
  record: FunctionRecord;
  paused: boolean;
}

/** The value under a function's own key: which stored version is current. */
export interface CurrentPointer {
  version: number;
  paused: boolean;
}

/** The registry topic's keys: `<name>` holds the current pointer, `<name>@<version>` each version's record. */
export function versionKey(name: string, version: number): string {
  return `${name}@${version}`;
}

export function parseKey(key: string): { name: string; version: number | null } {
  const at = key.lastIndexOf("@");
  if (at < 0) return { name: key, version: null };
  return { name: key.slice(0, at), version: Number(key.slice(at + 1)) };
}

/**
 * The registry's content, rebuilt by applying the topic's records in log order. Pure: no Kafka here.
 *
 * Every version is stored under its own key, so compaction (which keeps only the newest value of a
 * key) keeps the whole history; the function's own key is a small pointer to the current version.
 * A version record is always written before the pointer that names it, in the same partition, so a
 * reader meets the version first.
 */
export class RegistryState {
  private readonly versions = new Map<string, Map<number, FunctionRecord>>();
  private readonly current = new Map<string, CurrentPointer>();

  /** Applies one record; returns the function whose current entry changed (entry null: deleted), if any. */
  apply(key: string, value: string | null): { name: string; entry: FunctionEntry | null } | null {
    const { name, version } = parseKey(key);
    if (version !== null) {
      if (value === null) this.versions.get(name)?.delete(version);
      else {
        const record = parseJson<FunctionRecord>(value, key);
        if (record) this.versionsOf(name).set(version, record);
      }
      return null;
    }
    const before = this.entry(name);
    if (value === null) {
      this.current.delete(name);
      this.versions.delete(name);
    } else {
      const parsed = parseJson<FunctionRecord | CurrentPointer>(value, key);
      if (!parsed) return null;
      if ("code" in parsed) {
        // A record from before versions had their own keys: the whole record under the name.
        this.versionsOf(name).set(parsed.version, parsed);
        this.current.set(name, { version: parsed.version, paused: false });
      } else if (this.versions.get(name)?.has(parsed.version)) {
        this.current.set(name, { version: parsed.version, paused: parsed.paused === true });
      } else {
        log.error({ function: name, version: parsed.version }, "the registry names a version it does not hold; ignoring it");
        return null;
      }
    }
    const after = this.entry(name);
    if (sameEntry(before, after)) return null;
    return { name, entry: after ?? null };
  }

  entry(name: string): FunctionEntry | undefined {
    const pointer = this.current.get(name);
    const record = pointer && this.versions.get(name)?.get(pointer.version);
    return record && pointer ? { record, paused: pointer.paused } : undefined;
  }

  entries(): FunctionEntry[] {
    return [...this.current.keys()]
      .map((name) => this.entry(name))
      .filter((e): e is FunctionEntry => e !== undefined)
      .sort((a, b) => a.record.name.localeCompare(b.record.name));
  }

  /** Every stored version of a function, oldest first. */
  history(name: string): FunctionRecord[] {
    return [...(this.versions.get(name)?.values() ?? [])].sort((a, b) => a.version - b.version);
  }

  /** Versions only ever grow, even after a rollback to an older one. */
  nextVersion(name: string): number {
    return Math.max(0, ...(this.versions.get(name)?.keys() ?? [])) + 1;
  }

  private versionsOf(name: string): Map<number, FunctionRecord> {
    let versions = this.versions.get(name);
    if (!versions) this.versions.set(name, (versions = new Map()));
    return versions;
  }
}

function sameEntry(a: FunctionEntry | undefined, b: FunctionEntry | undefined): boolean {
  if (!a || !b) return a === b;
  return a.paused === b.paused && a.record.version === b.record.version && a.record.digest === b.record.digest;
}

function parseJson<T>(value: string, key: string): T | null {
  try {
    return JSON.parse(value) as T;
  } catch (error) {
    log.error({ err: error, key }, "skipping an unreadable registry record");
    return null;
  }
}
