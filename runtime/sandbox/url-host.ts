import { URL_SETTABLE_PARTS, type UrlPart, type WireUrl } from "./wire.js";

const MAX_URL_CHARS = 1_048_576;
const SETTABLE = new Set<string>(URL_SETTABLE_PARTS);

/** The host side of the isolate's URL: the WHATWG parser of Node. Arguments come from the isolate, so each is checked. */
export function parseUrlForIsolate(input: unknown, base: unknown): WireUrl | null {
  if (typeof input !== "string" || input.length > MAX_URL_CHARS) return null;
  if (base !== null && (typeof base !== "string" || base.length > MAX_URL_CHARS)) return null;
  try {
    return toWire(base === null ? new URL(input) : new URL(input, base));
  } catch {
    return null;
  }
}

/** Runs the WHATWG setter of `part` on `href`; invalid values leave the URL as it was, as the standard says. */
export function setUrlPartForIsolate(href: unknown, part: unknown, value: unknown): WireUrl | null {
  if (typeof href !== "string" || href.length > MAX_URL_CHARS || typeof part !== "string" || !SETTABLE.has(part)) return null;
  if (typeof value !== "string" || value.length > MAX_URL_CHARS) return null;
  try {
    const url = new URL(href);
    url[part as UrlPart] = value;
    return toWire(url);
  } catch {
    return null;
  }
}

function toWire(url: URL): WireUrl {
  return {
    href: url.href,
    origin: url.origin,
    protocol: url.protocol,
    username: url.username,
    password: url.password,
    host: url.host,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    search: url.search,
    hash: url.hash,
  };
}
