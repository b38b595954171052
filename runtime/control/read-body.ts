import type { Context, MiddlewareHandler } from "hono";
import { toErrorResponse, httpError } from "./errors.js";

/**
 * How much of a body above the limit is read and thrown away, so that its 413 arrives on a connection that
 * stays usable. Answering at once and closing raced the client's upload: in the fuzz test 5 of 39
 * clients still sending an 11 MB body got EPIPE instead of their 413.
 */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request's whole body, at most `maxBytes`, before anything after it can answer; 413 above that.
 *
 * Why first: @hono/node-server turns the request into a web stream (Readable.toWeb) as soon as anything
 * touches `req.body` (hono's bodyLimit did, on every /v1 request), and that stream pauses the socket
 * whenever its queue is full. An answer sent before the body was read (a 415, a 400 for a bad `:name`, a
 * 404 for an unknown route) left a body of more than ~64 KB paused there: the server's drain of it
 * stalled, and 500 ms later @hono/node-server destroyed a connection whose answer had said keep-alive,
 * so the client's next request on it failed with `UND_ERR_SOCKET: other side closed` (issue 10).
 * With the body read here, no later answer can leave one behind. (A 401 comes earlier, but it never
 * touches the body, and Node drains an untouched body itself.)
 */
export function readBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (c: Context, keepAlive: boolean) => {
    const { status, body } = toErrorResponse(httpError("EDDY_PAYLOAD_TOO_LARGE", `the body is larger than ${maxBytes / 1024 / 1024} MB`));
    // Closing is said up front, so that the client stops sending and does not reuse the connection.
    return c.json(body, status, keepAlive ? {} : { connection: "close" });
  };
  return async (c, next) => {
    const declared = Number(c.req.header("content-length") ?? 0);
    if (declared > DISCARD_LIMIT_BYTES) return tooLarge(c, false);
    const stream = c.req.raw.body;
    if (!stream) return next();

    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    let refused = declared > maxBytes;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > DISCARD_LIMIT_BYTES) return tooLarge(c, false);
      if (size > maxBytes) refused = true;
      if (refused) chunks.length = 0;
      else chunks.push(value);
    }
    if (refused) return tooLarge(c, true);
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks, size) });
    return next();
  };
}
