/** The dry run: invokes the function with events typed as JSON, touching no topic, and shows what it would emit and log. */
import { functionPath, messageOf } from "./api.js";
import { el, fill } from "./dom.js";
import { ms } from "./format.js";
import type { PageContext } from "./page.js";
import { guard } from "./permissions.js";
import type { InvokeResult } from "./types.js";

const EXAMPLE = '{ "key": "k1", "value": "hello" }';

export function dryRunCard({ api, who, signal }: PageContext, name: string): HTMLElement {
  const input = el("textarea", { id: "dry-run-input", rows: 5, spellcheck: "false", "aria-label": "Events as JSON" });
  input.value = EXAMPLE;
  const invoke = guard(el("button", { type: "button", "data-action": "invoke" }, "Run"), who, name);
  const result = el("div", { "data-testid": "dry-run-result", class: "dry-run-result", "aria-live": "polite" });
  const card = el(
    "section",
    { class: "card" },
    el("h2", {}, "Dry run"),
    el("p", { class: "muted" }, "One event (", el("code", {}, "{ key?, value, headers?, topic? }"), ") or a list of them. Nothing is produced and no offset moves."),
    input,
    el("div", { class: "row" }, invoke),
    result,
  );

  invoke.onclick = async () => {
    const events = parseEvents(input.value);
    if (typeof events === "string") return fill(result, el("p", { class: "error" }, events));
    invoke.disabled = true;
    fill(result, el("p", { class: "muted" }, "running…"));
    try {
      fill(result, ...showResult(await api.post<InvokeResult>(functionPath(name, "/invoke"), { events }, signal)));
    } catch (error) {
      fill(result, el("p", { class: "error" }, messageOf(error)));
    } finally {
      invoke.disabled = false;
    }
  };
  return card;
}

/** The events, or a sentence saying what is wrong with the text. */
function parseEvents(text: string): unknown[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `This is not valid JSON (${messageOf(error)}). Try ${EXAMPLE}`;
  }
  const events = Array.isArray(parsed) ? parsed : [parsed];
  if (events.length === 0) return "Give at least one event.";
  if (events.some((e) => typeof e !== "object" || e === null || Array.isArray(e))) return `Each event must be an object, like ${EXAMPLE}`;
  return events;
}

function showResult(answer: InvokeResult): Node[] {
  const error = answer.error;
  const summary = answer.ok
    ? el("p", { class: "ok" }, `ok in ${ms(answer.durationMs)} ms`)
    : el("p", { class: "error" }, `failed in ${ms(answer.durationMs)} ms: ${error?.name ?? "Error"}: ${error?.message ?? ""}${error?.code === undefined ? "" : ` (${error.code})`}`);
  const emitted =
    answer.emitted.length === 0
      ? el("p", { class: "muted" }, "Nothing emitted.")
      : el(
          "ul",
          { class: "emitted" },
          ...answer.emitted.map((e) =>
            el(
              "li",
              { "data-testid": "emitted" },
              el("strong", {}, e.topic),
              " key ",
              el("code", {}, e.key ?? "(none)"),
              e.encoding === "base64" ? " (base64)" : "",
              el("pre", {}, e.value ?? "(null)"),
            ),
          ),
        );
  const logs =
    answer.logs.length === 0
      ? el("p", { class: "muted" }, "No log lines.")
      : el("div", { class: "log" }, ...answer.logs.map((l) => el("div", { class: `log-line level-${l.level}` }, el("span", { class: "level" }, l.level.toUpperCase()), el("span", { class: "message" }, l.message))));
  return [summary, el("h3", {}, "Emitted"), emitted, el("h3", {}, "Logs"), logs];
}
