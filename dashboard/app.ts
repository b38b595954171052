/**
 * The dashboard's entry point: signs in, then routes `#/` to the functions page and
 * `#/functions/<name>` to a function's page. Each page lives until the next route, and everything it
 * started (polls, the log stream) stops with its AbortSignal.
 */
import { Api, ApiError, messageOf } from "./api.js";
import { clearAllErrors, clearError, reportError } from "./banner.js";
import { functionPage } from "./function-page.js";
import { functionsPage } from "./functions-page.js";
import { forgetToken, REFUSED, showSignIn, storedToken, storeToken, tokenFromFragment } from "./sign-in.js";
import type { Whoami } from "./types.js";

const RETRY_MS = 2_000;

let session: { api: Api; who: Whoami } | undefined;
let page: AbortController | undefined;
/** Bumped by each sign-in, so that a slow or retrying earlier one gives up instead of winning the race. */
let attempt = 0;

function stopPage(): void {
  page?.abort();
  page = undefined;
}

function signOut(error?: string): void {
  attempt += 1;
  session = undefined;
  stopPage();
  forgetToken();
  clearAllErrors();
  showSignIn(error, (token) => void signIn(token));
}

async function signIn(token: string): Promise<void> {
  const mine = ++attempt;
  session = undefined;
  stopPage();
  const api = new Api(token);
  api.onUnauthorized = () => {
    if (session?.api === api) signOut(REFUSED);
  };
  for (;;) {
    try {
      const who = await api.get<Whoami>("/v1/whoami");
      if (mine !== attempt) return;
      clearError("sign-in");
      storeToken(token);
      session = { api, who };
      showSession(who);
      route();
      return;
    } catch (error) {
      if (mine !== attempt) return;
      if (error instanceof ApiError && error.status === 401) return signOut(REFUSED);
      // Eddy down or failing: say so and keep trying with the same token.
      reportError("sign-in", messageOf(error));
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      if (mine !== attempt) return;
    }
  }
}

function showSession(who: Whoami): void {
  document.getElementById("signin")!.hidden = true;
  document.getElementById("session")!.hidden = false;
  const limit = who.pattern === null ? "" : `, ${who.pattern}`;
  document.getElementById("whoami")!.textContent = `${who.name} (${who.scope}${limit})`;
}

function route(): void {
  if (session === undefined) return;
  stopPage();
  page = new AbortController();
  const main = document.getElementById("main")!;
  main.replaceChildren();
  window.scrollTo(0, 0);
  const context = { ...session, signal: page.signal };
  const name = functionName(location.hash);
  if (name === undefined) functionsPage(main, context);
  else functionPage(main, { ...context, name });
}

function functionName(hash: string): string | undefined {
  const match = /^#\/functions\/([^/?]+)$/.exec(hash);
  if (match === null) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
}

window.addEventListener("hashchange", () => {
  // A pasted `#token=…` URL in an open tab changes only the fragment: sign in with it.
  const token = tokenFromFragment();
  if (token !== null) void signIn(token);
  else route();
});

document.getElementById("sign-out")!.addEventListener("click", (event) => {
  event.preventDefault();
  signOut();
});

const token = tokenFromFragment() ?? storedToken();
if (token === null) signOut();
else void signIn(token);
