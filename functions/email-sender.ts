import { defineFunction } from "eddy/sdk";

/** Stands in for a mail service: logs each email request that order-confirmation emits. */
export default defineFunction({
  name: "email-sender",
  topics: ["emails"],
  async handle(event, ctx) {
    const email = event.json<{ to: string; orderId: string }>();
    ctx.log.info(`sending the confirmation of ${email.orderId} to ${email.to}`);
  },
});
