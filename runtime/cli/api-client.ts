import type { EddyConfig } from "../config/load-config.js";
import { EddyError } from "../eddy-error.js";
import { readApiToken } from "./api-token.js";

export async function tokenFor(config: EddyConfig): Promise<string> {
  const token = config.apiToken ?? (await readApiToken(config.dataDir));
  if (!token) {
    throw new EddyError("EDDY_CLI_NO_TOKEN", `no API token: pass --token, set EDDY_API_TOKEN, or run 'eddy start' here (it writes ${config.dataDir}/token)`, {
      userError: true,
    });
  }
  return token;
}

/** Sends one request with the token; a connection failure becomes one clear line. */
async function send(config: EddyConfig, method: string, route: string, body?: unknown): Promise<Response> {
  const token = await tokenFor(config);
  try {
    return await fetch(new URL(route, config.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new EddyError("EDDY_CLI_UNREACHABLE", `cannot reach Eddy at ${config.url}: is 'eddy start' running? (or pass --url)`, { userError: true });
  }
}

/** The API's error answer as one line (plus one line per bad field). */
function apiError(status: number, json: unknown): EddyError {
  const error = (json as { error?: { message?: string; details?: { path: string; message: string }[] } } | null)?.error;
  // With details, the message's own list of them would say everything twice: keep its headline.
  const message = error?.details?.length ? error.message?.split(/:\s|\n/)[0] : error?.message;
  const details = error?.details?.map((d) => `\n  ${d.path}: ${d.message}`).join("") ?? "";
  return new EddyError("EDDY_CLI_API_ERROR", `${message ?? `HTTP ${status}`}${details}`, { userError: true, context: { status } });
}

/** Calls Eddy's HTTP API the way every CLI command does: token from --token, EDDY_API_TOKEN or `<dataDir>/token`. */
export async function callApi<T>(config: EddyConfig, method: string, route: string, body?: unknown): Promise<T> {
  const response = await send(config, method, route, body);
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    throw new EddyError("EDDY_CLI_API_ERROR", `${config.url} answered HTTP ${response.status} with something that is not Eddy's JSON`, { userError: true });
  }
  if (!response.ok) throw apiError(response.status, json);
  return json as T;
}

/**
 * Follows a server-sent events route, calling `onEvent` with each event's data, until the server closes
 * the stream or the process is interrupted.
 */
export async function followApi(config: EddyConfig, route: string, onEvent: (data: string) => void): Promise<void> {
  const response = await send(config, "GET", route);
  if (!response.ok || !response.body) {
    const text = await response.text();
    throw apiError(response.status, text ? (JSON.parse(text) as unknown) : null);
  }
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) onEvent(data);
    }
  }
}

/** A path segment of a route, escaped. */
export function functionRoute(name: string, rest = ""): string {
  return `/v1/functions/${encodeURIComponent(name)}${rest}`;
}
