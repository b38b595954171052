// A unit test with eddy/testing: the function runs in a real isolate, with no Kafka and no running Eddy.
import { afterAll, describe, expect, it } from "vitest";
import { testFunction } from "eddy/testing";
import accountBalances from "../account-balances.js";

describe("account-balances (eddy/testing)", async () => {
  const fn = await testFunction(accountBalances, { env: { OUT_TOPIC: "balances" } });
  afterAll(() => fn.dispose());

  it("folds deposits and withdrawals into the account's state and emits each change", async () => {
    fn.state.set("acct-1", { balance: 500, version: 3 });
    const result = await fn.invoke([
      { key: "acct-1", value: { type: "deposited", amount: 250 } },
      { key: "acct-1", value: { type: "withdrawn", amount: 700 } },
    ]);
    expect(result.outcomes).toEqual([{ status: "ok" }, { status: "ok" }]);
    expect(result.emitted.map((e) => [e.topic, e.key, e.data])).toEqual([
      ["balances", "acct-1", { accountId: "acct-1", type: "deposited", amount: 250, balance: 750, version: 4 }],
      ["balances", "acct-1", { accountId: "acct-1", type: "withdrawn", amount: 700, balance: 50, version: 5 }],
    ]);
    expect(fn.state.get("acct-1")).toEqual({ balance: 50, version: 5 });
  });

  it("refuses an overdraft without retries and leaves the balance as it was", async () => {
    fn.state.set("acct-2", { balance: 10, version: 1 });
    const result = await fn.invoke([{ key: "acct-2", value: { type: "withdrawn", amount: 11 } }]);
    expect(result.outcomes[0]).toMatchObject({ status: "failed", error: { retriable: false } });
    expect((result.outcomes[0] as { error: { message: string } }).error.message).toContain("overdraft");
    expect(result.emitted).toEqual([]);
    expect(fn.state.get("acct-2")).toEqual({ balance: 10, version: 1 });
  });
});
