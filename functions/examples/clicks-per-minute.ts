import { defineFunction, NonRetriableError } from "eddy/sdk";

const WINDOW_MS = 60_000;

/** A click on a page, keyed by page. `at` is when it happened: an ISO time or milliseconds since the epoch. */
interface Click {
  page: string;
  at: string | number;
}

/** A page's count in its partition's open window: the state of the page's key. */
interface OpenWindow {
  windowStart: number;
  count: number;
}

/**
 * A partition's stream time: the window its newest click falls in, the pages counted in it, and how
 * many clicks came too late for a window that had closed. Kept under a key of its own per partition.
 */
interface StreamTime {
  windowStart: number;
  pages: string[];
  late: number;
}

const STREAM_KEY_PREFIX = "stream-time:";

/**
 * Stream aggregation: clicks per page per minute, in tumbling windows by event time (`at`, not when
 * the record arrived). Each page's open window is its state; it closes, and its count goes out on
 * "clicks-per-minute" (`OUT_TOPIC`) as `{ page, windowStart, windowEnd, count }`, when a click of a later
 * minute arrives in the same partition, as Kafka Streams closes windows by its tasks' stream time
 * (with no grace period). A click for a window that has closed is dropped and counted (`late` in
 * the partition's `stream-time:<partition>` state). A window with no clicks emits nothing, and a
 * partition's last window stays open until its next click (a producer can send a heartbeat click).
 *
 * Ordering "partition": every record of a partition reads and writes its stream time, so they must
 * run one at a time. "exactly-once": a count and the offsets of the clicks in it commit together, so
 * a crash never counts a click twice and a closed window goes out once.
 */
export default defineFunction({
  name: "clicks-per-minute",
  topics: ["clicks"],
  ordering: "partition",
  delivery: "exactly-once",
  startFrom: "earliest",
  state: {},
  async handle(event, ctx) {
    const page = event.key;
    if (page === null || page.startsWith(STREAM_KEY_PREFIX)) throw new NonRetriableError(`expected a click keyed by its page, got key ${JSON.stringify(page)}`);
    const click = event.json<Click | null>();
    const at = typeof click?.at === "number" ? click.at : Date.parse(click?.at ?? "");
    if (!Number.isFinite(at)) throw new NonRetriableError(`${page}: at: expected an ISO time or epoch milliseconds, got ${JSON.stringify(click?.at)}`);
    const windowStart = Math.floor(at / WINDOW_MS) * WINDOW_MS;

    const streamKey = `${STREAM_KEY_PREFIX}${event.partition}`;
    let stream = (await ctx.state.get<StreamTime>(streamKey)) ?? { windowStart, pages: [], late: 0 };
    if (windowStart < stream.windowStart) {
      ctx.state.set(streamKey, { ...stream, late: stream.late + 1 });
      ctx.log.info(`${page}: a click at ${new Date(at).toISOString()} came after its window closed; dropped`);
      return;
    }
    if (windowStart > stream.windowStart) {
      // Stream time passed the open window's end: every page's count in it is final.
      const windowEnd = new Date(stream.windowStart + WINDOW_MS).toISOString();
      for (const closing of stream.pages) {
        const open = await ctx.state.get<OpenWindow>(closing);
        if (open === undefined) continue;
        await ctx.emit(ctx.env.OUT_TOPIC ?? "clicks-per-minute", { page: closing, windowStart: new Date(open.windowStart).toISOString(), windowEnd, count: open.count }, { key: closing });
        ctx.state.delete(closing);
      }
      stream = { windowStart, pages: [], late: stream.late };
    }

    const open = await ctx.state.get<OpenWindow>();
    ctx.state.set({ windowStart, count: (open?.count ?? 0) + 1 } satisfies OpenWindow);
    ctx.state.set(streamKey, { ...stream, pages: stream.pages.includes(page) ? stream.pages : [...stream.pages, page] } satisfies StreamTime);
  },
});
