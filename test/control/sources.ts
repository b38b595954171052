/** Function sources the control-plane tests deploy with `{ source }`. */

/** Emits `<tag>:<value>` to `output` for every record of `input`, keyed like the record. */
export function echo(name: string, input: string, output: string, tag: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(input)}],
  startFrom: "earliest",
  async handle(event, ctx) {
    ctx.log.info("got " + event.text());
    await ctx.emit(${JSON.stringify(output)}, ${JSON.stringify(tag)} + ":" + event.text(), { key: event.key });
  },
});
`;
}

/** Like echo, but a record whose JSON has `fail: true` is refused at once with NonRetriableError (so it is dead-lettered). */
export function picky(name: string, input: string, output: string, tag: string, failAll = false): string {
  return `import { defineFunction, NonRetriableError } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(input)}],
  startFrom: "earliest",
  retry: { maxAttempts: 2, backoff: { initialMs: 10 } },
  async handle(event, ctx) {
    const body = event.json();
    if (${failAll ? "true" : "body.fail === true"}) throw new NonRetriableError("refusing " + body.id);
    await ctx.emit(${JSON.stringify(output)}, ${JSON.stringify(tag)} + ":" + body.id, { key: event.key });
  },
});
`;
}
