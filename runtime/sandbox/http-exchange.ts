import http from "node:http";
import https from "node:https";

/**
 * One HTTP request for ctx.fetch on node:http, over connections kept alive per worker.
 *
 * Chose node:http over the global fetch (undici): undici's WHATWG layer (Request, Response,
 * Headers, web streams) cost some 300 µs of the worker's main thread per request, and a slow,
 * I/O-bound function at 64 requests in flight was bound by it (docs/benchmarks.md, scenario 3).
 * What fetch did that a function can see is kept: the method's case, one combined value per
 * header name (set-cookie apart), names sorted, a body on GET or HEAD refused.
 */

const agentOptions = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: "lifo" as const };
const httpAgent = new http.Agent(agentOptions);
const httpsAgent = new https.Agent(agentOptions);

/** The methods the Fetch standard writes in upper case whatever case they came in. */
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);

export interface HttpAnswer {
  status: number;
  statusText: string;
  /** [name, value] as fetch's Headers iterate them: names lower-case and sorted, repeats joined with ", ", each set-cookie apart at the end. */
  headers: [string, string][];
  header(name: string): string | undefined;
  /** The body whole; undefined (and the rest discarded) once it grows past `maxBytes`. */
  readBody(maxBytes: number): Promise<Uint8Array | undefined>;
  /** Drops the body unread. */
  discard(): void;
}

export interface HttpRequestInit {
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  signal: AbortSignal;
}

/** Sends the request; resolves at the response's head, rejects on a network failure or an abort (its `code` as Node's, e.g. ECONNREFUSED). */
export function httpRequest(url: URL, init: HttpRequestInit): Promise<HttpAnswer> {
  const upper = init.method.toUpperCase();
  const method = NORMALIZED_METHODS.has(upper) ? upper : init.method;
  if (init.body !== null && (method === "GET" || method === "HEAD")) return Promise.reject(new TypeError(`a ${method} request cannot have a body`));
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of init.headers) {
    const earlier = headers[name];
    headers[name] = earlier === undefined ? value : Array.isArray(earlier) ? [...earlier, value] : [earlier, value];
  }
  if (init.body !== null) headers["content-length"] = String(init.body.byteLength);
  const secure = url.protocol === "https:";
  return new Promise<HttpAnswer>((resolve, reject) => {
    let request: http.ClientRequest;
    try {
      request = (secure ? https : http).request(url, { method, headers, agent: secure ? httpsAgent : httpAgent, signal: init.signal });
    } catch (error) {
      // Invalid header names or values are refused before anything is sent.
      reject(error);
      return;
    }
    request.on("error", reject);
    request.on("response", (response) => resolve(answer(response)));
    request.end(init.body ?? undefined);
  });
}

function answer(response: http.IncomingMessage): HttpAnswer {
  const combined = new Map<string, string>();
  const cookies: string[] = [];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === "set-cookie") cookies.push(value);
    else combined.set(name, combined.has(name) ? `${combined.get(name)}, ${value}` : value);
  }
  const headers: [string, string][] = [...combined].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const cookie of cookies) headers.push(["set-cookie", cookie]);
  return {
    status: response.statusCode ?? 0,
    statusText: response.statusMessage ?? "",
    headers,
    header: (name) => combined.get(name),
    readBody: (maxBytes) => readBody(response, maxBytes),
    discard: () => {
      response.resume();
    },
  };
}

function readBody(response: http.IncomingMessage, maxBytes: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    response.on("data", (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > maxBytes) {
        // Settled first: destroying emits "aborted" at once.
        resolve(undefined);
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.on("end", () => {
      // A buffer of its own (Buffer.concat may hand out a slice of Node's pool, and the copy into the isolate would carry the whole pool).
      const body = new Uint8Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.byteLength;
      }
      resolve(body);
    });
    response.on("error", reject);
    response.on("aborted", () => reject(Object.assign(new Error("the connection closed before the body was complete"), { code: "ECONNRESET" })));
  });
}
