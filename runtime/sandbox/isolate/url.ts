// URL and URLSearchParams for the isolate. Parsing is the host's WHATWG parser (one synchronous
// call, cached), so URLs inside a function parse exactly as in Node; URLSearchParams is plain
// JavaScript (application/x-www-form-urlencoded), kept in step with its URL.
import type { HostFunctions, UrlPart, WireUrl } from "../wire.js";

const CACHE_SIZE = 512;
const MAX_URL_CHARS = 1_048_576;

type Codec = { encode(text: string): Uint8Array; decode(bytes: Uint8Array): string };

export interface UrlClasses {
  URL: new (url: unknown, base?: unknown) => { readonly href: string };
  URLSearchParams: new (init?: unknown) => object;
}

export function createUrlClasses(host: Pick<HostFunctions, "parseUrl" | "setUrlPart">, codec: Codec): UrlClasses {
  const cache = new Map<string, WireUrl | null>();

  function parse(input: string, base: string | null): WireUrl | null {
    if (input.length > MAX_URL_CHARS || (base !== null && base.length > MAX_URL_CHARS)) return null;
    const key = base === null ? input : `${input}\u0000${base}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const parts = host.parseUrl(input, base);
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(key, parts === null ? null : Object.freeze(parts));
    return parts;
  }

  // Set by URLSearchParams' static block: the URL ↔ query link needs its private state.
  let attach: (params: URLSearchParams, onChange: (query: string) => void) => void;
  let replaceList: (params: URLSearchParams, query: string) => void;

  class URLSearchParams {
    #list: [string, string][] = [];
    #onChange: ((query: string) => void) | undefined;

    static {
      attach = (params, onChange) => (params.#onChange = onChange);
      replaceList = (params, query) => (params.#list = parseQuery(query, codec));
    }

    constructor(init: unknown = "") {
      if (init instanceof URLSearchParams) {
        this.#list = init.#list.map(([name, value]) => [name, value]);
      } else if (init !== null && typeof init === "object" && typeof (init as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function") {
        for (const pair of init as Iterable<unknown>) {
          const items = pair !== null && typeof pair === "object" ? [...(pair as Iterable<unknown>)] : [];
          if (items.length !== 2) throw new TypeError("URLSearchParams: each pair must have exactly two items");
          this.#list.push([String(items[0]), String(items[1])]);
        }
      } else if (init !== null && typeof init === "object") {
        for (const name of Object.keys(init)) this.#list.push([name, String((init as Record<string, unknown>)[name])]);
      } else if (init !== undefined) {
        const text = String(init);
        this.#list = parseQuery(text.startsWith("?") ? text.slice(1) : text, codec);
      }
    }

    get size(): number {
      return this.#list.length;
    }

    append(name: unknown, value: unknown): void {
      this.#list.push([String(name), String(value)]);
      this.#update();
    }

    delete(name: unknown, value?: unknown): void {
      const key = String(name);
      const only = value === undefined ? undefined : String(value);
      this.#list = this.#list.filter(([n, v]) => n !== key || (only !== undefined && v !== only));
      this.#update();
    }

    get(name: unknown): string | null {
      const key = String(name);
      return this.#list.find(([n]) => n === key)?.[1] ?? null;
    }

    getAll(name: unknown): string[] {
      const key = String(name);
      return this.#list.filter(([n]) => n === key).map(([, v]) => v);
    }

    has(name: unknown, value?: unknown): boolean {
      const key = String(name);
      const only = value === undefined ? undefined : String(value);
      return this.#list.some(([n, v]) => n === key && (only === undefined || v === only));
    }

    set(name: unknown, value: unknown): void {
      const key = String(name);
      const index = this.#list.findIndex(([n]) => n === key);
      if (index < 0) this.#list.push([key, String(value)]);
      else {
        this.#list[index] = [key, String(value)];
        this.#list = this.#list.filter(([n], i) => n !== key || i === index);
      }
      this.#update();
    }

    sort(): void {
      // Array.prototype.sort is stable; names compare by UTF-16 code units, as the standard says.
      this.#list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.#update();
    }

    forEach(callback: (value: string, name: string, params: URLSearchParams) => void, thisArg?: unknown): void {
      if (typeof callback !== "function") throw new TypeError("URLSearchParams.forEach: callback: expected a function");
      for (let i = 0; i < this.#list.length; i++) {
        const [name, value] = this.#list[i]!;
        callback.call(thisArg, value, name, this);
      }
    }

    *keys(): IterableIterator<string> {
      for (const [name] of this.#list) yield name;
    }

    *values(): IterableIterator<string> {
      for (const [, value] of this.#list) yield value;
    }

    *entries(): IterableIterator<[string, string]> {
      for (const [name, value] of this.#list) yield [name, value];
    }

    [Symbol.iterator](): IterableIterator<[string, string]> {
      return this.entries();
    }

    get [Symbol.toStringTag](): string {
      return "URLSearchParams";
    }

    toString(): string {
      return this.#list.map(([name, value]) => `${formEncode(name, codec)}=${formEncode(value, codec)}`).join("&");
    }

    #update(): void {
      this.#onChange?.(this.toString());
    }
  }

  class URL {
    #url: WireUrl;
    #query: URLSearchParams | undefined;

    constructor(url: unknown, base?: unknown) {
      const input = String(url);
      const parts = parse(input, base === undefined ? null : String(base));
      if (parts === null) throw invalidUrl(input);
      this.#url = parts;
    }

    static canParse(url: unknown, base?: unknown): boolean {
      return parse(String(url), base === undefined ? null : String(base)) !== null;
    }

    static parse(url: unknown, base?: unknown): URL | null {
      return URL.canParse(url, base) ? new URL(url, base) : null;
    }

    get href(): string {
      return this.#url.href;
    }
    set href(value: string) {
      const input = String(value);
      const parts = parse(input, null);
      if (parts === null) throw invalidUrl(input);
      this.#url = parts;
      this.#syncQuery();
    }
    get origin(): string {
      return this.#url.origin;
    }
    get protocol(): string {
      return this.#url.protocol;
    }
    set protocol(value: string) {
      this.#set("protocol", value);
    }
    get username(): string {
      return this.#url.username;
    }
    set username(value: string) {
      this.#set("username", value);
    }
    get password(): string {
      return this.#url.password;
    }
    set password(value: string) {
      this.#set("password", value);
    }
    get host(): string {
      return this.#url.host;
    }
    set host(value: string) {
      this.#set("host", value);
    }
    get hostname(): string {
      return this.#url.hostname;
    }
    set hostname(value: string) {
      this.#set("hostname", value);
    }
    get port(): string {
      return this.#url.port;
    }
    set port(value: string) {
      this.#set("port", value);
    }
    get pathname(): string {
      return this.#url.pathname;
    }
    set pathname(value: string) {
      this.#set("pathname", value);
    }
    get search(): string {
      return this.#url.search;
    }
    set search(value: string) {
      this.#set("search", value);
      this.#syncQuery();
    }
    get hash(): string {
      return this.#url.hash;
    }
    set hash(value: string) {
      this.#set("hash", value);
    }

    get searchParams(): URLSearchParams {
      if (this.#query === undefined) {
        const query = new URLSearchParams(this.#url.search);
        attach(query, (serialized) => this.#set("search", serialized));
        this.#query = query;
      }
      return this.#query;
    }

    get [Symbol.toStringTag](): string {
      return "URL";
    }

    toString(): string {
      return this.#url.href;
    }

    toJSON(): string {
      return this.#url.href;
    }

    #set(part: UrlPart, value: unknown): void {
      const next = host.setUrlPart(this.#url.href, part, String(value));
      if (next !== null) this.#url = Object.freeze(next);
    }

    #syncQuery(): void {
      if (this.#query !== undefined) replaceList(this.#query, this.#url.search.slice(1));
    }
  }

  return { URL, URLSearchParams };
}

function invalidUrl(input: string): TypeError {
  const error = new TypeError(`Invalid URL: ${input.length > 200 ? `${input.slice(0, 200)}…` : input}`);
  Object.defineProperty(error, "code", { value: "ERR_INVALID_URL", enumerable: false, configurable: true, writable: true });
  return error;
}

/** application/x-www-form-urlencoded parsing (WHATWG URL §5.1). */
function parseQuery(query: string, codec: Codec): [string, string][] {
  const list: [string, string][] = [];
  for (const sequence of query.split("&")) {
    if (sequence.length === 0) continue;
    const equals = sequence.indexOf("=");
    const name = equals < 0 ? sequence : sequence.slice(0, equals);
    const value = equals < 0 ? "" : sequence.slice(equals + 1);
    list.push([percentDecode(name.replaceAll("+", " "), codec), percentDecode(value.replaceAll("+", " "), codec)]);
  }
  return list;
}

function percentDecode(text: string, codec: Codec): string {
  if (!text.includes("%")) return text;
  const bytes = codec.encode(text);
  const out = new Uint8Array(bytes.length);
  let j = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    const high = i + 2 < bytes.length ? hexValue(bytes[i + 1]!) : -1;
    const low = high >= 0 ? hexValue(bytes[i + 2]!) : -1;
    if (byte === 0x25 && high >= 0 && low >= 0) {
      out[j++] = high * 16 + low;
      i += 2;
    } else out[j++] = byte;
  }
  return codec.decode(out.subarray(0, j));
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

const HEX = "0123456789ABCDEF";

/** The urlencoded byte serializer: space as "+", *-._ and alphanumerics as they are, the rest %XX. */
function formEncode(text: string, codec: Codec): string {
  let out = "";
  for (const byte of codec.encode(text)) {
    if (byte === 0x20) out += "+";
    else if (
      byte === 0x2a ||
      byte === 0x2d ||
      byte === 0x2e ||
      byte === 0x5f ||
      (byte >= 0x30 && byte <= 0x39) ||
      (byte >= 0x41 && byte <= 0x5a) ||
      (byte >= 0x61 && byte <= 0x7a)
    ) {
      out += String.fromCharCode(byte);
    } else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}
