import { defineFunction, NonRetriableError } from "eddy/sdk";

/** For every order, emits a confirmation email request keyed like the order. */
export default defineFunction({
  name: "order-confirmation",
  topics: ["orders"],
  async handle(event, ctx) {
    const order = event.json<{ id: string; email: string }>();
    if (!order.email) throw new NonRetriableError("order without email");
    await ctx.emit("emails", { to: order.email, orderId: order.id }, { key: event.key });
  },
});
