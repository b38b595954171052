/** A stateful function's per-key state (ctx.state): what its replicas hold, and one key looked up through the state route. */
import { functionPath, messageOf } from "./api.js";
import { el, fill } from "./dom.js";
import type { PageContext } from "./page.js";
import type { FunctionStatus, StateValue } from "./types.js";

export function stateCard({ api, signal }: PageContext, name: string): { card: HTMLElement; update: (status: FunctionStatus) => void } {
  const summary = el("p", { "data-testid": "state-summary", class: "muted" });
  const key = el("input", { type: "text", name: "state-key", placeholder: "a record key", "aria-label": "Key" });
  const look = el("button", { type: "submit", "data-action": "lookup-state" }, "Look up");
  const answer = el("div", { "data-testid": "state-value" });
  const form = el("form", { class: "row" }, key, look);
  const card = el("section", { class: "card", hidden: true }, el("h2", {}, "State"), summary, form, answer);

  form.onsubmit = async (event) => {
    event.preventDefault();
    if (key.value === "") return;
    look.disabled = true;
    fill(answer, el("p", { class: "muted" }, "reading the changelog…"));
    try {
      const found = await api.get<StateValue>(functionPath(name, `/state/${encodeURIComponent(key.value)}`), signal);
      const stale = found.fresh ? "" : " (the changelog could not be read to its end: maybe not the newest write)";
      fill(answer, el("p", { class: "muted" }, `partition ${found.partition}, written ${found.updatedAt}${stale}`), el("pre", {}, JSON.stringify(found.value, null, 2)));
    } catch (error) {
      if (!signal.aborted) fill(answer, el("p", { class: "error" }, messageOf(error)));
    } finally {
      look.disabled = false;
    }
  };

  const update = (status: FunctionStatus) => {
    const store = status.stateStore;
    card.hidden = store === undefined;
    if (store === undefined) return;
    const restoring = store.restoring > 0 ? `, restoring ${store.restoring} partition(s)` : "";
    summary.textContent = `${store.keys} keys, ${store.bytes} bytes held by the running replicas${restoring}; changelog ${store.topic}.`;
  };
  return { card, update };
}
