import type { EddyConfig } from "../config/load-config.js";
import { EddyError } from "../eddy-error.js";
import { readApiToken } from "./api-token.js";

/** Calls Eddy's HTTP API the way every CLI command does: token from --token, EDDY_API_TOKEN or `<dataDir>/token`. */
export async function callApi<T>(config: EddyConfig, method: string, route: string, body?: unknown): Promise<T> {
  const token = config.apiToken ?? (await readApiToken(config.dataDir));
  if (!token) {
    throw new EddyError("EDDY_CLI_NO_TOKEN", `no API token: pass --token, set EDDY_API_TOKEN, or run 'eddy start' here (it writes ${config.dataDir}/token)`, {
      userError: true,
    });
  }
  let response: Response;
  try {
    response = await fetch(new URL(route, config.url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new EddyError("EDDY_CLI_UNREACHABLE", `cannot reach Eddy at ${config.url}: is 'eddy start' running? (or pass --url)`, { userError: true });
  }
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : null;
  if (!response.ok) {
    const error = (json as { error?: { message?: string; details?: { path: string; message: string }[] } } | null)?.error;
    const details = error?.details?.map((d) => `\n  ${d.path}: ${d.message}`).join("") ?? "";
    throw new EddyError("EDDY_CLI_API_ERROR", `${error?.message ?? `HTTP ${response.status}`}${details}`, { userError: true });
  }
  return json as T;
}
