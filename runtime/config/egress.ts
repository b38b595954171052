/** One `egress` entry (SPEC §3): a host, and the one port it may be reached on (null: any port). */
export interface EgressRule {
  /** As the WHATWG URL parser writes a hostname: lower case, IDNA, IPv4 canonical, IPv6 in brackets. */
  hostname: string;
  port: number | null;
}

const ENTRY = /^(\[[0-9A-Fa-f:.]+\]|[^:/?#@\s[\]]+)(?::(\d{1,5}))?$/;

/**
 * Parses `host` or `host:port` (IPv6 in brackets: `[::1]:8080`); returns the rule, or a problem
 * saying what was expected. Hosts are normalized as URLs normalize them, so `LOCALHOST`, `0x7f.1`
 * and `127.0.0.1` compare the way a fetched URL's hostname will.
 *
 * @example
 * ```ts
 * parseEgressEntry("api.example.com:443"); // { hostname: "api.example.com", port: 443 }
 * ```
 */
export function parseEgressEntry(entry: string): EgressRule | { problem: string } {
  const expected = `expected host or host:port (no scheme, path or wildcard), got ${JSON.stringify(entry)}`;
  const match = ENTRY.exec(entry.trim());
  if (match === null) return { problem: expected };
  const [, host, portText] = match;
  let hostname: string;
  try {
    const url = new URL(`http://${host}/`);
    if (url.pathname !== "/" || url.username !== "" || url.password !== "") return { problem: expected };
    hostname = url.hostname;
  } catch {
    return { problem: expected };
  }
  if (hostname.length === 0 || hostname.includes("*")) return { problem: expected };
  if (portText === undefined) return { hostname, port: null };
  const port = Number(portText);
  if (port < 1 || port > 65_535) return { problem: `expected a port from 1 to 65535, got ${JSON.stringify(entry)}` };
  return { hostname, port };
}
