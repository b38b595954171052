import type { Whoami } from "./types.js";

/** Whether this token may change `name` (deploy, rollback, invoke, replay, redrive, pause, resume). */
export function canChange(who: Whoami, name: string): boolean {
  if (who.scope === "admin") return true;
  if (who.scope === "read") return false;
  return who.pattern === null || globMatches(who.pattern, name);
}

/** Why a button is disabled, for its `title`. */
export function deniedReason(who: Whoami, name: string): string {
  return who.scope === "read"
    ? "Needs a deploy token: this token is read-only"
    : `Needs a deploy token for ${name}: this one covers ${who.pattern ?? "no function"} only`;
}

/** Disables `button` unless the token may change `name`. */
export function guard(button: HTMLButtonElement, who: Whoami, name: string): HTMLButtonElement {
  if (!canChange(who, name)) {
    button.disabled = true;
    button.title = deniedReason(who, name);
  }
  return button;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`).test(name);
}
