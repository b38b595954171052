import { defineFunction, NonRetriableError } from "eddy/sdk";

/** The events of an order's life, keyed by order id. Prices are in minor units (cents). */
type OrderEvent =
  | { type: "created"; customerId: string; at: string }
  | { type: "item-added"; sku: string; quantity: number; unitPrice: number }
  | { type: "item-removed"; sku: string }
  | { type: "shipped"; at: string; carrier: string }
  | { type: "cancelled"; at: string; reason: string };

/** The read model: what an order page or a support tool asks for, in one read. */
interface OrderSummary {
  orderId: string;
  customerId: string;
  status: "open" | "shipped" | "cancelled";
  lines: Record<string, { quantity: number; unitPrice: number }>;
  itemCount: number;
  total: number;
  createdAt: string;
  shippedAt?: string;
  carrier?: string;
  cancelledAt?: string;
  cancelReason?: string;
  /** The source offset of the last event applied: an event at or before it was applied already. */
  appliedOffset: string;
}

/**
 * CQRS read model: the write side appends order events; this function folds them into one summary
 * per order, kept in ctx.state and served by `GET /v1/functions/order-summaries/state/<order id>` (or
 * `eddy state get order-summaries <order id>`). No output topic: the changelog is the view.
 *
 * "at-least-once" is enough because applying is idempotent: the summary remembers the offset of the
 * last event it applied, and a replayed event (a crash between the state write and the offset commit,
 * or `eddy replay`) is at or before it and skipped. The offsets of one order are comparable since an
 * order's events share a partition (they share its key). A tombstone for an order id (the order was
 * purged) removes its summary. Unknown event types are skipped, so the write side can add some first.
 */
export default defineFunction({
  name: "order-summaries",
  topics: ["order-events"],
  ordering: "key",
  startFrom: "earliest",
  state: {},
  async handle(event, ctx) {
    const orderId = event.key;
    if (orderId === null) throw new NonRetriableError("expected an order event keyed by order id, got no key");
    const summary = await ctx.state.get<OrderSummary>();
    if (summary !== undefined && BigInt(event.offset) <= BigInt(summary.appliedOffset)) return;
    if (event.value === null) {
      ctx.state.delete();
      return;
    }

    const change = event.json<OrderEvent>();
    if (change.type === "created") {
      if (summary !== undefined) throw new NonRetriableError(`order ${orderId}: created twice`);
      ctx.state.set({ orderId, customerId: change.customerId, status: "open", lines: {}, itemCount: 0, total: 0, createdAt: change.at, appliedOffset: event.offset } satisfies OrderSummary);
      return;
    }
    // The order's first event must be its creation: anything else means the write side lost one.
    if (summary === undefined) throw new NonRetriableError(`order ${orderId}: ${change.type} before created`);

    const next: OrderSummary = { ...summary, lines: { ...summary.lines }, appliedOffset: event.offset };
    switch (change.type) {
      case "item-added": {
        const quantity = (next.lines[change.sku]?.quantity ?? 0) + change.quantity;
        next.lines[change.sku] = { quantity, unitPrice: change.unitPrice };
        break;
      }
      case "item-removed":
        delete next.lines[change.sku];
        break;
      case "shipped":
        Object.assign(next, { status: "shipped", shippedAt: change.at, carrier: change.carrier });
        break;
      case "cancelled":
        Object.assign(next, { status: "cancelled", cancelledAt: change.at, cancelReason: change.reason });
        break;
      default:
        ctx.log.info(`order ${orderId}: skipping an event of unknown type ${JSON.stringify((change as { type: unknown }).type)}`);
    }
    const lines = Object.values(next.lines);
    next.itemCount = lines.reduce((sum, line) => sum + line.quantity, 0);
    next.total = lines.reduce((sum, line) => sum + line.quantity * line.unitPrice, 0);
    ctx.state.set(next);
  },
});
