/** The newest records of the function's dead-letter topic, with the `eddy-dlt-*` headers that say why they are there. */
import { functionPath, messageOf } from "./api.js";
import { definitions, el, fill } from "./dom.js";
import { time } from "./format.js";
import type { PageContext } from "./page.js";
import type { DeadLetters } from "./types.js";

const LIMIT = 20;

export function deadLettersCard({ api, signal }: PageContext, name: string): HTMLElement {
  const refresh = el("button", { type: "button", "data-action": "refresh-dead-letters" }, "Refresh");
  const list = el("div", { "data-testid": "dead-letters", class: "dead-letters" });
  const card = el("section", { class: "card wide" }, el("div", { class: "card-head" }, el("h2", {}, "Dead letters"), refresh), list);

  // Not polled: reading the topic's newest records can take the server a few seconds.
  const load = async () => {
    refresh.disabled = true;
    fill(list, el("p", { class: "muted" }, "loading…"));
    try {
      const answer = await api.get<DeadLetters>(functionPath(name, `/dead-letters?limit=${LIMIT}`), signal);
      if (answer.topic === null) fill(list, el("p", { class: "muted" }, "No dead-letter topic: this function's failures are not kept."));
      else if (answer.records.length === 0) fill(list, el("p", { class: "muted" }, "Nothing in ", el("code", {}, answer.topic), "."));
      else fill(list, el("p", { class: "muted" }, `The newest ${answer.records.length} in `, el("code", {}, answer.topic), ", newest first:"), ...answer.records.map(record));
    } catch (error) {
      if (!signal.aborted) fill(list, el("p", { class: "error" }, `Could not read the dead letters: ${messageOf(error)}`));
    } finally {
      refresh.disabled = false;
    }
  };
  refresh.onclick = () => void load();
  void load();
  return card;
}

function record(r: DeadLetters["records"][number]): HTMLElement {
  // Eddy's own headers first: they say why the record failed and where it came from.
  const headers = Object.entries(r.headers).sort(([a], [b]) => Number(!a.startsWith("eddy-dlt-")) - Number(!b.startsWith("eddy-dlt-")) || a.localeCompare(b));
  return el(
    "article",
    { class: "dead-letter" },
    el("p", {}, `partition ${r.partition}, offset ${r.offset}, ${time(r.timestamp)}, key `, el("code", {}, r.key ?? "(none)")),
    el("pre", {}, r.value),
    definitions(headers.map(([header, value]) => [header, el("code", {}, value)])),
  );
}
