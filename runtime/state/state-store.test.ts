import { describe, expect, it } from "vitest";
import type { InvocationResult } from "../sandbox/function-sandbox.js";
import { StateStore } from "./state-store.js";
import { applyStateWrites } from "./state-writes.js";

const ok = { status: "ok" } as const;

describe("StateStore", () => {
  it("keeps JSON text per partition and key, counting keys and values in UTF-8 bytes", () => {
    const store = new StateStore(1_000);
    store.load(0, new Map([["a", "1"]]));
    store.load(1, new Map());
    store.apply(1, [{ key: "ü", value: '"x"' }]);
    expect(store.reader(0).get("a")).toBe("1");
    expect(store.reader(1).get("ü")).toBe('"x"');
    expect(store.reader(1).get("a")).toBeUndefined();
    expect(store.bytes).toBe(2 + 2 + 3);
    expect(store.keys).toBe(2);
    store.apply(0, [{ key: "a", value: null }]);
    expect(store.reader(0).get("a")).toBeUndefined();
    expect(store.bytes).toBe(5);
    store.drop(1);
    expect({ bytes: store.bytes, partitions: store.partitions() }).toEqual({ bytes: 0, partitions: [0] });
  });

  it("takes no writes for a partition it does not hold (lost while the invocation ran)", () => {
    const store = new StateStore(1_000);
    store.apply(3, [{ key: "a", value: "1" }]);
    expect({ has: store.has(3), bytes: store.bytes }).toEqual({ has: false, bytes: 0 });
  });

  it("tells the size after a series of writes to the same key without applying them", () => {
    const store = new StateStore(1_000);
    store.load(0, new Map([["k", "12345"]]));
    expect(store.bytesAfter(0, [{ key: "k", value: "1" }, { key: "k", value: "123" }])).toBe(4);
    expect(store.bytesAfter(0, [{ key: "k", value: null }, { key: "n", value: "1" }])).toBe(2);
    expect(store.bytes).toBe(6);
  });
});

describe("applyStateWrites", () => {
  const home = (maxBytes: number) => ({ store: new StateStore(maxBytes), topic: "counter.state" });
  const result = (): InvocationResult => ({
    outcomes: [ok, ok, ok],
    emitted: [
      { topic: "out", key: "a", value: null, headers: {}, recordIndex: 0 },
      { topic: "out", key: "b", value: null, headers: {}, recordIndex: 1 },
    ],
    stateWrites: [
      { key: "a", value: "1", recordIndex: 0 },
      { key: "b", value: null, recordIndex: 1 },
    ],
    durationMs: 1,
  });

  it("applies the writes and returns them as changelog records in the source record's partition", () => {
    const h = home(1_000);
    h.store.load(2, new Map([["b", "9"]]));
    const messages = applyStateWrites(h, 2, result());
    expect(messages).toEqual([
      {
        topic: "counter.state",
        messages: [
          { key: "a", value: Buffer.from("1"), headers: {}, partition: 2 },
          { key: "b", value: null, headers: {}, partition: 2 },
        ],
      },
    ]);
    expect(h.store.reader(2).get("a")).toBe("1");
    expect(h.store.reader(2).get("b")).toBeUndefined();
  });

  it("refuses writes past state.maxBytes: their records fail, not retried, and lose their emits", () => {
    const h = home(3);
    h.store.load(0, new Map([["b", "9"]]));
    const r = result();
    r.stateWrites = [{ key: "a", value: "12345", recordIndex: 0 }];
    expect(applyStateWrites(h, 0, r)).toEqual([]);
    expect(r.outcomes[0]).toMatchObject({ status: "failed", error: { code: "EDDY_STATE_FULL", retriable: false } });
    expect(r.outcomes.slice(1)).toEqual([ok, ok]);
    expect(r.emitted.map((e) => e.recordIndex)).toEqual([1]);
    expect(r.stateWrites).toBeUndefined();
    expect(h.store.reader(0).get("a")).toBeUndefined();
  });

  it("lets a store already over the limit shrink: a delete is never refused", () => {
    const h = home(3);
    h.store.load(0, new Map([["big", "123456"]]));
    const r = result();
    r.stateWrites = [{ key: "big", value: null, recordIndex: 0 }];
    expect(applyStateWrites(h, 0, r)).toHaveLength(1);
    expect(r.outcomes[0]).toEqual(ok);
    expect(h.store.bytes).toBe(0);
  });
});
