import { defineFunction, NonRetriableError } from "eddy/sdk";

/** A Debezium change event (PostgreSQL connector), with or without the JSON converter's schema envelope. */
interface ChangeEvent {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** create, update, delete, read (snapshot), truncate. */
  op: "c" | "u" | "d" | "r" | "t";
  source: { lsn?: number; ts_ms: number; db?: string; schema?: string; table?: string };
  ts_ms: number;
}

/** The last change applied to a row: its WAL position, and whether it deleted the row. */
interface RowVersion {
  lsn: number;
  ts: number;
  deleted: boolean;
}

/** `{ schema, payload }` (schemas.enable=true) or the bare payload. */
function payloadOf<T>(json: unknown): T {
  return (json !== null && typeof json === "object" && "payload" in json && "schema" in json ? json.payload : json) as T;
}

/** A single-column primary key becomes its value (`{"id":"c-1"}` → `c-1`); any other key stays as it is. */
function downstreamKey(key: string): string {
  let fields: unknown;
  try {
    fields = payloadOf(JSON.parse(key));
  } catch {
    return key;
  }
  const values = fields !== null && typeof fields === "object" ? Object.values(fields) : [];
  return values.length === 1 && (typeof values[0] === "string" || typeof values[0] === "number") ? String(values[0]) : key;
}

/**
 * Change data capture: Debezium's change events of the `customers` table (topic
 * `shop.public.customers`, keyed by primary key) become a clean, compacted-friendly topic of rows:
 * the row's new state for a create, update or snapshot read, a tombstone for a delete, keyed by the
 * primary key's value. The source's own tombstone after each delete is skipped (the delete already
 * went downstream), and so is a truncate (it has no key; downstream would need every key).
 *
 * Debezium delivers at least once, and a restarted connector sends changes again, so a row may see a
 * change it already had, after newer ones. The function keeps each row's last applied WAL position
 * (`source.lsn`) in ctx.state and drops any change at or before it; a deleted row keeps its position,
 * so a late change cannot bring it back. Positions of one row only grow: two transactions never
 * change a row at once. (The MySQL connector would compare `source.file`, `pos` and `row` instead.)
 * "exactly-once" keeps the position and the row it let through in one transaction: at-least-once
 * could leave the position written and the row not, and the replayed change would then be dropped.
 */
export default defineFunction({
  name: "customer-cdc",
  topics: ["shop.public.customers"],
  ordering: "key",
  delivery: "exactly-once",
  startFrom: "earliest",
  state: {},
  async handle(event, ctx) {
    if (event.value === null) return;
    const change = payloadOf<ChangeEvent>(event.json());
    if (change.op === "t") {
      ctx.log.warn(`truncate of ${change.source.table} at lsn ${change.source.lsn}: not forwarded`);
      return;
    }
    if (event.key === null) throw new NonRetriableError(`expected a change event keyed by primary key, got no key (op ${JSON.stringify(change.op)})`);
    if (!["c", "u", "d", "r"].includes(change.op)) throw new NonRetriableError(`op: expected "c", "u", "d", "r" or "t", got ${JSON.stringify(change.op)}`);
    const lsn = change.source?.lsn;
    if (typeof lsn !== "number") throw new NonRetriableError(`source.lsn: expected a number (the PostgreSQL connector's WAL position), got ${JSON.stringify(lsn)}`);

    const last = await ctx.state.get<RowVersion>();
    if (last !== undefined && lsn <= last.lsn) {
      ctx.log.info(`${event.key}: dropped op ${change.op} at lsn ${lsn}, already at ${last.lsn}`);
      return;
    }
    const deleted = change.op === "d";
    ctx.state.set({ lsn, ts: change.source.ts_ms, deleted } satisfies RowVersion);
    await ctx.emit(ctx.env.OUT_TOPIC ?? "customers", deleted ? null : change.after, { key: downstreamKey(event.key) });
  },
});
