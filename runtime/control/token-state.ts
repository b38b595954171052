import { createHash } from "node:crypto";
import { log } from "../log.js";
import { FUNCTION_PATTERN, TOKEN_SCOPES, type Principal, type Scope } from "./scopes.js";

/** A scoped token as answers show it: never its secret, never its hash. */
export interface TokenInfo {
  id: string;
  name: string;
  scope: Scope;
  /** A deploy token's function-name pattern (e.g. `team-a-*`). */
  functions?: string;
  createdAt: string;
}

/** A token as the tokens topic stores it, under its id: the secret's SHA-256, never the secret. */
export interface TokenRecord extends TokenInfo {
  sha256: string;
}

/**
 * The hash a token is stored and looked up by. A plain SHA-256 is enough (no salt, no slow KDF): the
 * secrets are 256 random bits, so there is nothing to guess by brute force or by a precomputed table;
 * the hash only keeps a reader of the topic from holding usable tokens.
 */
export function hashToken(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

export function tokenInfo(record: TokenRecord): TokenInfo {
  const { sha256: _hash, ...info } = record;
  return info;
}

function isTokenRecord(value: unknown, id: string): value is TokenRecord {
  const r = value as Partial<TokenRecord> | null;
  return (
    typeof r === "object" &&
    r !== null &&
    r.id === id &&
    typeof r.name === "string" &&
    TOKEN_SCOPES.includes(r.scope as Scope) &&
    (r.functions === undefined || (typeof r.functions === "string" && FUNCTION_PATTERN.test(r.functions))) &&
    typeof r.createdAt === "string" &&
    typeof r.sha256 === "string" &&
    /^[0-9a-f]{64}$/.test(r.sha256)
  );
}

/**
 * The scoped tokens, rebuilt by applying the tokens topic's records in log order (key: the token's id;
 * a tombstone revokes it). Pure: no Kafka here (`token-store.ts` reads and writes the topic).
 */
export class TokenState {
  private readonly byId = new Map<string, TokenRecord>();
  private readonly idByHash = new Map<string, string>();

  /** Applies one record of the topic; an unreadable one is logged and skipped (it grants nothing). */
  apply(id: string, value: string | null): void {
    const before = this.byId.get(id);
    if (before) {
      this.byId.delete(id);
      this.idByHash.delete(before.sha256);
    }
    if (value === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = null;
    }
    if (!isTokenRecord(parsed, id)) {
      log.error({ token: id }, "skipping an unreadable token record");
      return;
    }
    this.byId.set(id, parsed);
    this.idByHash.set(parsed.sha256, id);
  }

  /**
   * The principal a presented secret stands for, if it is a live token. Looked up by its hash: a map
   * lookup's timing can only reveal something about the hash, which does not help to forge a secret.
   */
  principal(secret: string): Principal | undefined {
    const id = this.idByHash.get(hashToken(secret));
    const record = id === undefined ? undefined : this.byId.get(id);
    if (!record) return undefined;
    return { id: record.id, name: record.name, scope: record.scope, ...(record.functions !== undefined ? { functions: record.functions } : {}) };
  }

  get(id: string): TokenInfo | undefined {
    const record = this.byId.get(id);
    return record && tokenInfo(record);
  }

  /** Oldest first. */
  list(): TokenInfo[] {
    return [...this.byId.values()].map(tokenInfo).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }
}
