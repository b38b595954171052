// A unit test with eddy/testing: the function runs in a real isolate, with no Kafka and no running Eddy.
import { afterAll, describe, expect, it } from "vitest";
import { testFunction } from "eddy/testing";
import customerCdc from "../customer-cdc.js";

/** A Debezium (PostgreSQL connector) change event, without the schema envelope. */
const change = (op: string, lsn: number, after: Record<string, unknown> | null, before: Record<string, unknown> | null = null) => ({
  before,
  after,
  op,
  source: { lsn, ts_ms: 1_700_000_000_000 + lsn, db: "shop", schema: "public", table: "customers" },
  ts_ms: 1_700_000_000_000 + lsn,
});

describe("customer-cdc (eddy/testing)", async () => {
  const fn = await testFunction(customerCdc, { env: { OUT_TOPIC: "rows" } });
  afterAll(() => fn.dispose());

  it("turns changes into rows and a delete into a tombstone, keyed by the primary key's value", async () => {
    const key = JSON.stringify({ id: "c-1" });
    const result = await fn.invoke([
      { key, value: change("c", 10, { id: "c-1", name: "Ada" }) },
      { key, value: change("u", 11, { id: "c-1", name: "Ada L." }) },
      { key, value: change("d", 12, null, { id: "c-1", name: "Ada L." }) },
      // Debezium's own tombstone after the delete: nothing to forward.
      { key, value: null },
    ]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok", "ok"]);
    expect(result.emitted.map((e) => [e.topic, e.key, e.data])).toEqual([
      ["rows", "c-1", { id: "c-1", name: "Ada" }],
      ["rows", "c-1", { id: "c-1", name: "Ada L." }],
      ["rows", "c-1", null],
    ]);
    expect(fn.state.get(key)).toEqual({ lsn: 12, ts: 1_700_000_000_012, deleted: true });
  });

  it("drops a change at or before the row's last position (a replay, or one that arrives late)", async () => {
    const key = JSON.stringify({ id: "c-2" });
    fn.state.set(key, { lsn: 50, ts: 0, deleted: false });
    const result = await fn.invoke([
      { key, value: change("u", 49, { id: "c-2", name: "old" }) },
      { key, value: change("u", 50, { id: "c-2", name: "same" }) },
    ]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "ok"]);
    expect(result.emitted).toEqual([]);
    expect(result.logs.map((l) => l.message)).toEqual([`${key}: dropped op u at lsn 49, already at 50`, `${key}: dropped op u at lsn 50, already at 50`]);
  });
});
