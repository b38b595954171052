/**
 * Where the token comes from: the URL fragment (`#token=…`, which browsers never send to the server),
 * then this tab's sessionStorage, then the sign-in form.
 */
const STORAGE_KEY = "eddy.token";

export const REFUSED = "Eddy refused this token (401). Check it, or print the admin token's URL with `eddy dashboard`.";

/** Takes the token out of the fragment and out of the address bar (and so out of the history and bookmarks). */
export function tokenFromFragment(): string | null {
  if (!location.hash.startsWith("#token=")) return null;
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  return token === null || token === "" ? null : token;
}

export function storedToken(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeToken(token: string): void {
  sessionStorage.setItem(STORAGE_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Shows the sign-in form (with `error`, if any) in place of the page and calls `onToken` with what is entered. */
export function showSignIn(error: string | undefined, onToken: (token: string) => void): void {
  document.getElementById("main")!.replaceChildren();
  document.getElementById("session")!.hidden = true;
  const section = document.getElementById("signin")!;
  const message = section.querySelector<HTMLElement>('[data-testid="signin-error"]')!;
  const form = section.querySelector<HTMLFormElement>("#token-form")!;
  const input = form.querySelector<HTMLInputElement>("#token-input")!;
  message.textContent = error ?? "";
  message.hidden = error === undefined;
  section.hidden = false;
  input.focus();
  // Assigned, not added: the form may be shown many times in one visit.
  form.onsubmit = (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (token === "") return;
    input.value = "";
    section.hidden = true;
    onToken(token);
  };
}
