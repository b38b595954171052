/**
 * Malformed requests for the API fuzz test (fuzz.test.ts), made from the OpenAPI document so that every
 * route is covered, routes added later included. A seeded generator makes each run reproducible.
 *
 * The server is a real one with one deployed function, so a request that happened to be valid would act
 * (delete it, pause it, set a secret). Every request that could change something therefore carries at least
 * one fault the server is sure to refuse (see `refused`), and faults are added until it does.
 */

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
};

export interface Route {
  method: string;
  /** The OpenAPI form: `/v1/functions/{name}/invoke`. */
  path: string;
  query: string[];
  body?: JsonSchema;
}

export interface FuzzRequest {
  index: number;
  /** The route it was made from, `POST /v1/functions/{name}/invoke`, even when sent elsewhere. */
  route: string;
  method: string;
  /** Path and query, as sent. */
  target: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
  /** The faults, in words, for the failure report. */
  what: string[];
  /** What the answer must be, where the faults decide it alone. */
  expect?: { status: number; field?: string };
}

/** The routes of `GET /v1/openapi.json`. */
export function routesOf(document: { paths: Record<string, Record<string, any>> }): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = (operation.parameters ?? []) as { name: string; in: string }[];
      routes.push({
        method: method.toUpperCase(),
        path,
        query: parameters.filter((p) => p.in === "query").map((p) => p.name),
        body: operation.requestBody?.content?.["application/json"]?.schema,
      });
    }
  }
  return routes;
}

/** mulberry32: small, fast and the same everywhere. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted<T extends string>(weights: Record<T, number>): T {
    const total = Object.values<number>(weights).reduce((a, b) => a + b, 0);
    let roll = this.next() * total;
    for (const [key, weight] of Object.entries<number>(weights)) if ((roll -= weight) < 0) return key as T;
    return Object.keys(weights)[0] as T;
  }
}

const MB = 1024 * 1024;
const MAX_BODY_BYTES = 10 * MB;
const UNICODE = ["😀", "\u0000", "\ud800", "Ω≈ç√", "\u202eevil", "𝕏𝕐", "\uffff", "名前", "é", "\t\n"];
/** Names no function can have (outside a-z, 0-9 and -, or longer than 63), even once percent-decoded. */
const BAD_NAMES = ["Bad_Name", "UPPER", "a".repeat(64), "a".repeat(3000), "a%20b", "ünï", "名前", "%00", "a%2Fb", "%ZZ", "%", "😀", "a.b", "_", "a%0Ab", "%E0%A4%A"];
/** Values no query parameter of the API takes (not a boolean word, not an integer from 1 to 1000). */
const BAD_QUERY_VALUES = ["", "yes", "TRUE", "-1", "0", "1001", "abc", "%ZZ", "%F0%9F%98%80", "1.5", "x".repeat(3000), "[]", "null", "1e999", "%00"];
const JUNK_QUERIES = ["?", "?&&", "?=", "?%", "?a=%ZZ", "?x[]=1&x[]=2", "?%F0%9F%98%80=%F0%9F%98%80", "?=1&=2", "?a=1&a=2&a=3"];
const WRONG_TYPES = ["application/xml", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "image/png", "*/*"];
const INVALID_JSON = ['{"a":', "{'a':1}", "[1,]", '{"a" 1}', "nul", "{]", '"unterminated', "\ufeff{}", "{}{}", "NaN", "{\"a\":01}", "[1 2]", "}", "\u0000"];
const OTHER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const UNKNOWN_PATHS = ["/v1/nothing", "/v1/functions/{name}/nothing", "/v2/functions", "/v1/functions/{name}/invoke/more", "/V1/FUNCTIONS", "/v1", "/v1/", "/nothing"];

export interface GeneratorOptions {
  token: string;
  /** The deployed function: routes act on it when a request is valid. */
  target: string;
  seed: number;
}

/** Generates malformed requests, one at a time, from the routes. */
export class MalformedRequests {
  private readonly random: Random;
  private readonly known: Set<string>;
  /** One big text, cut to size for huge bodies (building 10 MB strings every time would dominate the run). */
  private readonly filler = "x".repeat(MAX_BODY_BYTES);
  private readonly oversize = Buffer.alloc(12 * MB, "x");

  constructor(
    private readonly routes: Route[],
    private readonly options: GeneratorOptions,
  ) {
    this.random = new Random(options.seed);
    this.known = new Set(routes.map((r) => `${r.method} ${r.path}`));
  }

  next(index: number): FuzzRequest {
    const r = this.random;
    const what: string[] = [];
    let route = r.pick(this.routes);
    const aimedAt = `${route.method} ${route.path}`;
    let method = route.method;
    let path = route.path;
    if (r.chance(0.04)) {
      path = r.pick(UNKNOWN_PATHS);
      route = { method, path, query: [] };
      what.push("unknown path");
    } else if (r.chance(0.04)) {
      const other = OTHER_METHODS.filter((m) => !this.known.has(`${m} ${route.path}`));
      method = r.pick(other);
      what.push(`method ${method} the route lacks`);
    }
    const isKnownRoute = this.known.has(`${method} ${path}`);
    const under = path.startsWith("/v1/");

    // Path parameters.
    let namesValid = true;
    let nameIsTarget = false;
    path = path.replace(/\{([a-zA-Z]+)\}/g, (_all, param: string) => {
      if (param !== "name") {
        namesValid = false;
        return r.pick(["API_KEY", "api-key", "bad name", "x".repeat(300), "%ZZ", "😀", "1", "__proto__", "constructor"]);
      }
      const kind = r.weighted({ target: 5, missing: 2, bad: 3 });
      if (kind === "target") nameIsTarget = true;
      if (kind === "missing") return `fz-missing-${r.int(0, 99)}`;
      if (kind === "target") return this.options.target;
      namesValid = false;
      const bad = r.pick(BAD_NAMES);
      what.push(`name ${bad.slice(0, 20)}`);
      return bad;
    });
    const hadName = route.path.includes("{name}");

    // Query.
    let query = "";
    let queryRefused = false;
    if (route.query.length > 0 && r.chance(0.5)) {
      const key = r.chance(0.3) ? `fz_${r.pick(["x", "😀", "limit2", "%ZZ"])}` : r.pick(route.query);
      query = `?${key}=${r.pick(BAD_QUERY_VALUES)}`;
      if (r.chance(0.3)) query += `&${r.pick(route.query)}=${r.pick(BAD_QUERY_VALUES)}`;
      queryRefused = true;
      what.push(`query ${query.slice(0, 40)}`);
    } else if (r.chance(0.12)) {
      query = r.pick(JUNK_QUERIES);
      what.push(`junk query ${query}`);
    }

    // Headers.
    const headers: Record<string, string> = { authorization: `Bearer ${this.options.token}` };
    let authRefused = false;
    if (r.chance(0.1)) {
      const bad = r.pick(["", "Bearer", "Bearer wrong", `Basic ${this.options.token}`, `Bearer ${this.options.token}x`, `Bearer ${"x".repeat(this.options.token.length)}`, "Bearer \u00e9"]);
      if (bad === "") delete headers.authorization;
      else headers.authorization = bad;
      authRefused = true;
      what.push(`authorization ${JSON.stringify(bad)}`);
    }
    if (r.chance(0.05)) headers["x-fuzz"] = r.pick(["", "x".repeat(4000), "\u00ff", "a\tb"]);

    // Body: never on GET or HEAD (fetch refuses to send one).
    let body: FuzzRequest["body"];
    let bodyRefused = false;
    let contentType: string | undefined = "application/json";
    let deepAt: string | undefined;
    let oversize = false;
    if (method !== "GET") {
      const made = this.body(route.body, what);
      body = made.body;
      bodyRefused = made.refused && isKnownRoute && route.body !== undefined;
      oversize = made.oversize;
      deepAt = made.deepAt;
      if (r.chance(0.1)) {
        contentType = r.pick(WRONG_TYPES);
        what.push(`content-type ${contentType}`);
      } else if (r.chance(0.1)) {
        contentType = r.pick(["application/json; charset=utf-8", "application/json;charset=UTF-8"]);
      } else if (r.chance(0.05) && typeof body !== "string") {
        contentType = undefined;
        what.push("no content-type");
      }
    }
    if (contentType !== undefined && body !== undefined) headers["content-type"] = contentType;
    if (body === undefined) what.push("no body");
    const typeRefused = body !== undefined && contentType !== undefined && !contentType.startsWith("application/json") && ["POST", "PUT", "PATCH"].includes(method);

    // Where the faults decide the answer alone, in the order the server checks them: token, size, type, name, body.
    let expect: FuzzRequest["expect"];
    if (under && authRefused) expect = { status: 401 };
    else if (under && oversize) expect = { status: 413 };
    else if (under && typeRefused) expect = { status: 415 };
    else if (deepAt !== undefined && isKnownRoute && namesValid && route.body !== undefined) expect = { status: 400, field: deepAt };

    // A request that could act on the deployed function must be refused for sure; add a fault until it is.
    const refused = (under && (authRefused || oversize || typeRefused)) || bodyRefused || queryRefused || (hadName && !namesValid && !nameIsTarget);
    const couldAct = isKnownRoute && method !== "GET" && (nameIsTarget || !hadName);
    if (couldAct && !refused) {
      if (hadName) {
        path = path.replace(`/${this.options.target}`, "/Bad_Name");
        what.push("name Bad_Name (added)");
      } else {
        headers.authorization = "Bearer wrong";
        what.push("authorization wrong (added)");
      }
      expect = hadName ? { status: 400, field: "name" } : { status: 401 };
    }
    return { index, route: aimedAt, method, target: path + query, headers, body, what, ...(expect ? { expect } : {}) };
  }

  /** A body with one fault; `refused` when a route that validates this schema must refuse it. */
  private body(schema: JsonSchema | undefined, what: string[]): { body?: FuzzRequest["body"]; refused: boolean; oversize: boolean; deepAt?: string } {
    const r = this.random;
    const properties = Object.keys(schema?.properties ?? {});
    const strict = schema?.additionalProperties === false;
    const kind = r.weighted({
      none: 8,
      invalidJson: 12,
      topLevel: 8,
      empty: 5,
      unknownField: 15,
      wrongType: 15,
      randomTree: 8,
      unicode: 6,
      deep: 9,
      huge: 4,
      oversize: 2,
      badUtf8: 3,
      chunked: 2,
    });
    const base = (): Record<string, unknown> => (properties.length > 0 && r.chance(0.5) ? { [r.pick(properties)]: this.randomValue(2) } : {});
    switch (kind) {
      case "none":
        return { refused: false, oversize: false };
      case "invalidJson": {
        const text = r.chance(0.7) ? r.pick(INVALID_JSON) : this.randomText(r.int(1, 200));
        what.push(`invalid JSON ${JSON.stringify(text.slice(0, 30))}`);
        return { body: text, refused: true, oversize: false };
      }
      case "topLevel": {
        const value = r.pick(["[]", "1", '"text"', "null", "true", "[{}]", "-0", "1e400"]);
        what.push(`body ${value}`);
        return { body: value, refused: true, oversize: false };
      }
      case "empty":
        what.push("empty body");
        return { body: r.pick(["", " ", "\n\t "]), refused: (schema?.required?.length ?? 0) > 0, oversize: false };
      case "unknownField": {
        const key = `fz_${r.pick(UNICODE)}${r.int(0, 9)}`;
        what.push(`unknown field ${JSON.stringify(key)}`);
        return { body: JSON.stringify({ ...base(), [key]: this.randomValue(3) }), refused: strict, oversize: false };
      }
      case "wrongType": {
        const typed = properties.filter((p) => typeof schema!.properties![p]!.type === "string");
        if (typed.length === 0) return this.body(schema, what);
        const property = r.pick(typed);
        const type = schema!.properties![property]!.type as string;
        const wrong = ({ string: [5, true, null, [], {}], integer: ["1", 1.5, null, [], {}, -1e300], number: ["1", null, []], boolean: ["true", 1, null], array: ["x", 1, {}, null], object: ["x", 1, [], null] } as Record<string, unknown[]>)[type];
        const value = wrong ? r.pick(wrong) : "x";
        what.push(`${property}: ${JSON.stringify(value)}`);
        return { body: JSON.stringify({ ...base(), [property]: value }), refused: wrong !== undefined, oversize: false };
      }
      case "randomTree": {
        const tree = { ...(this.randomValue(5) as object), [`fz_${r.int(0, 999)}`]: this.randomValue(4) };
        what.push("random JSON");
        return { body: JSON.stringify(tree), refused: strict, oversize: false };
      }
      case "unicode": {
        const text = JSON.stringify({ [`fz_${r.pick(UNICODE)}`]: r.pick(UNICODE).repeat(r.int(1, 500)), ...base() });
        const bom = r.chance(0.2);
        what.push(bom ? "unicode with a byte-order mark" : "unicode field");
        return { body: bom ? `\ufeff${text}` : text, refused: bom || strict, oversize: false };
      }
      case "deep": {
        // Where it goes: the body itself, a field, or a value that takes any JSON (an invoke event's value).
        const anyJson = schema?.properties?.events?.items?.properties?.value;
        const place = r.weighted({ root: 1, field: properties.length > 0 ? 2 : 0, anyJson: anyJson ? 3 : 0 });
        // From just past the bound to past where JSON.stringify runs out of stack (~10,000) and on to 4 MB of
        // brackets; objects at the root would be named by their first key instead, so the root gets arrays.
        const depth = r.chance(0.05) ? 2_000_000 : r.chance(0.3) ? r.int(5_000, 200_000) : r.int(65, 5_000);
        const arrays = depth > 5_000 || place === "root" || r.chance(0.6);
        const value = arrays ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
        what.push(`nested ${depth} deep (${arrays ? "arrays" : "objects"}) at ${place}`);
        if (place === "root") return { body: value, refused: true, oversize: false, deepAt: "(body)" };
        if (place === "anyJson") return { body: `{"events":[{"value":${value}}]}`, refused: true, oversize: false, deepAt: "events.0.value" };
        const property = r.pick(properties);
        return { body: `{${JSON.stringify(property)}:${value}}`, refused: true, oversize: false, deepAt: property };
      }
      case "huge": {
        const size = r.pick([64 * 1024, 512 * 1024, 2 * MB, MAX_BODY_BYTES - 1024]);
        const key = properties.length > 0 && r.chance(0.5) ? r.pick(properties) : `fz_big`;
        what.push(`${key}: a string of ${size} bytes`);
        return { body: `{${JSON.stringify(key)}:"${this.filler.slice(0, size)}","fz_extra":1}`, refused: strict, oversize: false };
      }
      case "oversize": {
        const size = r.int(MAX_BODY_BYTES + 1, this.oversize.length);
        what.push(`a body of ${size} bytes`);
        return { body: this.oversize.subarray(0, size), refused: true, oversize: true };
      }
      case "badUtf8": {
        const bytes = Uint8Array.from({ length: r.int(1, 64) }, () => r.pick([0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x7b, 0x22]));
        what.push("bytes that are not UTF-8");
        return { body: bytes, refused: true, oversize: false };
      }
      case "chunked": {
        const size = r.chance(0.3) ? 11 * MB : r.int(1, 256 * 1024);
        what.push(`a chunked body of ${size} bytes`);
        const oversize = this.oversize;
        return {
          body: () => {
            let left = size;
            return new ReadableStream<Uint8Array>({
              pull(controller) {
                if (left <= 0) return controller.close();
                const n = Math.min(left, 256 * 1024);
                left -= n;
                controller.enqueue(oversize.subarray(0, n));
              },
            });
          },
          refused: true,
          oversize: size > MAX_BODY_BYTES,
        };
      }
    }
  }

  private randomValue(depth: number): unknown {
    const r = this.random;
    const kind = depth <= 0 ? r.int(0, 4) : r.int(0, 6);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return r.chance(0.5);
      case 2:
        return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53, r.int(-1000, 1000)]);
      case 3:
        return this.randomText(r.int(0, 40));
      case 4:
        return r.pick(UNICODE);
      case 5:
        return Array.from({ length: r.int(0, 4) }, () => this.randomValue(depth - 1));
      default:
        return Object.fromEntries(Array.from({ length: r.int(0, 4) }, () => [this.randomText(r.int(0, 8)), this.randomValue(depth - 1)]));
    }
  }

  private randomText(length: number): string {
    const r = this.random;
    let text = "";
    for (let i = 0; i < length; i++) text += r.chance(0.1) ? r.pick(UNICODE) : String.fromCharCode(r.int(0x20, 0x7e));
    return text;
  }
}
