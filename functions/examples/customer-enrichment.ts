import { defineFunction, NonRetriableError, RetryAfterError } from "eddy/sdk";

/** A customer record as the customers topic carries it (a compacted topic, keyed by customer id). */
interface Customer {
  id: string;
  name: string;
  email: string;
  tier: string;
}

/** What this function keeps of a customer: only what an enriched order shows. */
type CustomerView = Pick<Customer, "name" | "email" | "tier">;

interface Order {
  orderId: string;
  customerId: string;
  total: number;
}

/**
 * Event-carried state transfer: the customers topic carries every change of a customer, whole, so
 * this function keeps its own view of the customers (ctx.state, keyed by customer id) instead of
 * asking a customer service for each order, and emits each order with its customer.
 *
 * Both topics are keyed by customer id and have the same number of partitions, so a customer and
 * their orders land on the same partition number, whose state one replica owns. An orders topic
 * keyed by order id would first need re-keying (a function that emits each order with
 * `{ key: order.customerId }`).
 *
 * An order whose customer is not known yet (its record is still on its way) is retried
 * `CUSTOMER_WAIT_ATTEMPTS` times (default 3), `CUSTOMER_WAIT_MS` apart (default 1000); ordering "key"
 * holds back only that customer's orders meanwhile. After that it goes out with `customer: null`
 * rather than wait for ever. Keep CUSTOMER_WAIT_ATTEMPTS below `retry.maxAttempts` (5), or the order is
 * dead-lettered instead.
 */
export default defineFunction({
  name: "customer-enrichment",
  topics: ["customers", "customer-orders"],
  ordering: "key",
  startFrom: "earliest",
  state: {},
  async handle(event, ctx) {
    if (event.key === null) throw new NonRetriableError("expected a record keyed by customer id, got none");

    if (event.topic === (ctx.env.CUSTOMERS_TOPIC ?? "customers")) {
      if (event.value === null) {
        ctx.state.delete(); // a tombstone: the customer was deleted, and so is our copy
      } else {
        const { name, email, tier } = event.json<Customer>();
        ctx.state.set({ name, email, tier } satisfies CustomerView);
      }
      return;
    }

    const order = event.json<Order>();
    // An order keyed otherwise would sit on another partition than its customer: no view could find it.
    if (order.customerId !== event.key) {
      throw new NonRetriableError(`order ${order.orderId}: key ${JSON.stringify(event.key)} is not its customerId ${JSON.stringify(order.customerId)}`);
    }
    const customer = await ctx.state.get<CustomerView>();
    const waits = Number(ctx.env.CUSTOMER_WAIT_ATTEMPTS ?? 3);
    if (customer === undefined && ctx.attempt <= waits) {
      throw new RetryAfterError(`order ${order.orderId}: customer ${event.key} is not known yet`, Number(ctx.env.CUSTOMER_WAIT_MS ?? 1_000));
    }
    if (customer === undefined) ctx.log.warn(`order ${order.orderId}: customer ${event.key} still unknown; emitted without`);
    await ctx.emit(ctx.env.OUT_TOPIC ?? "orders.enriched", { ...order, customer: customer ?? null }, { key: event.key });
  },
});
