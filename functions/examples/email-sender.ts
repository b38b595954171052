import { defineFunction } from "eddy/sdk";

/**
 * Event notification, the reacting side: stands in for a mail service and logs each email request
 * that order-confirmation emits. A real one would call its provider with `ctx.fetch` and pass the
 * order id as the provider's idempotency key, since at-least-once may deliver a request twice.
 */
export default defineFunction({
  name: "email-sender",
  topics: ["emails"],
  async handle(event, ctx) {
    const email = event.json<{ to: string; orderId: string }>();
    ctx.log.info(`sending the confirmation of ${email.orderId} to ${email.to}`);
  },
});
