import { randomBytes } from "node:crypto";
import type { Kafka } from "kafkajs";
import { CompactedTopic, type KeyedMessage } from "./compacted-topic.js";
import type { Principal, Scope } from "./scopes.js";
import { hashToken, TokenState, type TokenInfo, type TokenRecord } from "./token-state.js";

/** What the HTTP API asks of the scoped tokens (routes and the auth check call only this). */
export interface TokenService {
  /** The live token a presented secret stands for, if any. */
  principal(secret: string): Principal | undefined;
  list(): TokenInfo[];
  /** Creates a token; its secret is in this answer and nowhere else, ever. */
  create(request: { scope: Scope; name?: string; functions?: string }): Promise<TokenInfo & { token: string }>;
  /** False when there is no such token. */
  revoke(id: string): Promise<boolean>;
}

/** `eddy_` marks the secret as Eddy's for people and secret scanners; 32 random bytes follow, base64url. */
const TOKEN_PREFIX = "eddy_";

/**
 * Scoped tokens kept in their own compacted topic `<prefix>tokens` (key: id; value: the record with the
 * secret's SHA-256; revoke: a tombstone). Like the registry, nothing is applied directly: a create or a
 * revoke answers once it has been read back from the topic, and a restarted Eddy rebuilds the tokens
 * from it. `inMemory()` applies writes at once, for route tests.
 */
export class TokenStore implements TokenService {
  private constructor(
    private readonly state: TokenState,
    private readonly log: { write(messages: KeyedMessage[]): Promise<void>; sync(): Promise<void>; close(): Promise<void> },
  ) {}

  static async open(kafka: Kafka, topic: string): Promise<TokenStore> {
    const state = new TokenState();
    const log = await CompactedTopic.open(kafka, topic, (key, value) => state.apply(key, value));
    return new TokenStore(state, log);
  }

  static inMemory(): TokenStore {
    const state = new TokenState();
    return new TokenStore(state, {
      write: async (messages) => messages.forEach((m) => state.apply(m.key, m.value)),
      sync: async () => {},
      close: async () => {},
    });
  }

  principal(secret: string): Principal | undefined {
    return this.state.principal(secret);
  }

  list(): TokenInfo[] {
    return this.state.list();
  }

  async create(request: { scope: Scope; name?: string; functions?: string }): Promise<TokenInfo & { token: string }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
    const record: TokenRecord = {
      id: randomBytes(8).toString("hex"),
      name: request.name ?? "",
      scope: request.scope,
      ...(request.functions !== undefined ? { functions: request.functions } : {}),
      createdAt: new Date().toISOString(),
      sha256: hashToken(token),
    };
    await this.log.write([{ key: record.id, value: JSON.stringify(record) }]);
    const stored = this.state.get(record.id);
    if (!stored) throw new Error(`token ${record.id} was written but not read back`);
    return { ...stored, token };
  }

  async revoke(id: string): Promise<boolean> {
    // A token made through another instance may not have reached this one yet.
    await this.log.sync();
    if (!this.state.get(id)) return false;
    await this.log.write([{ key: id, value: null }]);
    return true;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
