import { defineFunction, NonRetriableError } from "eddy/sdk";

/** What clients append to an account's log. Amounts are in minor units (cents), so sums stay exact. */
interface AccountEvent {
  type: "deposited" | "withdrawn";
  amount: number;
}

/** The account as its events made it: the state of its key. */
interface Account {
  balance: number;
  /** Events applied so far. */
  version: number;
}

/**
 * Event sourcing: an account is its events (deposited, withdrawn; keyed by account id), and its
 * balance is their fold, kept per account in ctx.state. A withdrawal the balance cannot cover is
 * refused with NonRetriableError: it is dead-lettered at once (account-balances.dlt, with the reason
 * in its `eddy-dlt-error-message` header) and changes nothing. Every accepted event goes out on
 * "balance-changes" (`OUT_TOPIC`), keyed by account, in the account's order.
 *
 * "exactly-once": the new balance, the balance change and the source offset commit in one
 * transaction, so a crash never applies an event twice (at-least-once would replay it against a
 * balance that already includes it), and a read_committed reader sees a balance change only once the
 * balance it reports is durable.
 */
export default defineFunction({
  name: "account-balances",
  topics: ["account-events"],
  ordering: "key",
  delivery: "exactly-once",
  startFrom: "earliest",
  state: {},
  async handle(event, ctx) {
    const accountId = event.key;
    if (accountId === null) throw new NonRetriableError("expected an account event keyed by account id, got no key");
    const change = event.json<AccountEvent | null>();
    if (change === null || (change.type !== "deposited" && change.type !== "withdrawn")) {
      throw new NonRetriableError(`account ${accountId}: expected type "deposited" or "withdrawn", got ${JSON.stringify(change?.type)}`);
    }
    if (!Number.isSafeInteger(change.amount) || change.amount <= 0) {
      throw new NonRetriableError(`account ${accountId}: amount: expected a positive integer (cents), got ${JSON.stringify(change.amount)}`);
    }

    const account = (await ctx.state.get<Account>()) ?? { balance: 0, version: 0 };
    const delta = change.type === "deposited" ? change.amount : -change.amount;
    if (account.balance + delta < 0) {
      throw new NonRetriableError(`account ${accountId}: overdraft: withdrawing ${change.amount} from a balance of ${account.balance}`);
    }
    const next: Account = { balance: account.balance + delta, version: account.version + 1 };
    ctx.state.set(next);
    await ctx.emit(ctx.env.OUT_TOPIC ?? "balance-changes", { accountId, type: change.type, amount: change.amount, ...next }, { key: accountId });
  },
});
