import type { Api } from "./api.js";
import type { Whoami } from "./types.js";

/** What a page gets: the signed-in client and token, and a signal that aborts when the page is left. */
export interface PageContext {
  api: Api;
  who: Whoami;
  signal: AbortSignal;
}
