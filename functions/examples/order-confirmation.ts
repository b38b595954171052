import { defineFunction, NonRetriableError } from "eddy/sdk";

/**
 * Event notification, the producing side: an order was placed, so a confirmation email is asked for.
 * The email request says what happened and carries only what the mail step needs; sending it is
 * email-sender's business. The same function as functions/order-confirmation.ts, with its output
 * topic in `OUT_TOPIC` (default "emails").
 */
export default defineFunction({
  name: "order-confirmation",
  topics: ["orders"],
  async handle(event, ctx) {
    const order = event.json<{ id: string; email: string } | null>();
    // Retrying cannot give an order an address: dead-letter it at once (order-confirmation.dlt).
    if (!order?.email) throw new NonRetriableError("order without email");
    await ctx.emit(ctx.env.OUT_TOPIC ?? "emails", { to: order.email, orderId: order.id }, { key: event.key });
  },
});
