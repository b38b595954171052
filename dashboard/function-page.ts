/** `#/functions/<name>`: one function's status, charts, operations, log, dry run, dead letters, versions and configuration. */
import { functionPath } from "./api.js";
import { historyCharts } from "./charts.js";
import { deadLettersCard } from "./dead-letters.js";
import { definitions, el, fill } from "./dom.js";
import { dryRunCard } from "./dry-run.js";
import { ms } from "./format.js";
import { liveLogCard } from "./live-log.js";
import { operationsCard, operator } from "./operations.js";
import type { PageContext } from "./page.js";
import { poll } from "./poll.js";
import { stateBadge } from "./state-badge.js";
import { stateCard } from "./state-card.js";
import type { FunctionStatus, History } from "./types.js";
import { versionsCard } from "./versions.js";

const STATUS_MS = 2_000;
const HISTORY_MS = 5_000;
const FACTS: [field: string, label: string][] = [
  ["version", "Version"],
  ["replicas", "Replicas ready/desired"],
  ["lag", "Lag"],
  ["circuit", "Circuit breaker"],
  ["processed", "Processed"],
  ["failed", "Failed"],
  ["retried", "Retried"],
  ["deadLettered", "Dead-lettered"],
  ["p50", "p50 ms"],
  ["p99", "p99 ms"],
  ["scaler", "Scaler mode"],
];

export function functionPage(main: HTMLElement, context: PageContext & { name: string }): void {
  const { api, signal, name } = context;
  document.title = `Eddy: ${name}`;

  const state = el("div", { "data-field": "state", class: "state-line" }, "loading…");
  const result = el("p", { "data-testid": "operation-result", role: "status", hidden: true });
  const facts = new Map(FACTS.map(([field]) => [field, el("dd", { "data-field": field })] as const));
  const factList = el("dl", { class: "facts" }, ...FACTS.flatMap(([field, label]) => [el("dt", {}, label), facts.get(field)!]));
  const config = el("div", {}, "loading…");

  let status: ReturnType<typeof poll> | undefined;
  const op = operator(result, () => status?.now());
  const operations = operationsCard(context, name, op);
  const versions = versionsCard(context, name, op);
  const charts = historyCharts(signal);
  const keyState = stateCard(context, name);

  main.append(
    el(
      "section",
      { "data-testid": "function-page", class: "function-page" },
      el("a", { href: "#/", class: "back" }, "← All functions"),
      el("header", { class: "function-head" }, el("h1", {}, name), state),
      result,
      el(
        "div",
        { class: "function-grid" },
        el("section", { class: "card" }, el("h2", {}, "Status"), factList),
        operations.card,
        keyState.card,
        el("section", { class: "card wide" }, el("h2", {}, "Last hour"), charts.element),
        liveLogCard(context, name),
        dryRunCard(context, name),
        deadLettersCard(context, name),
        versions.card,
        el("section", { class: "card" }, el("h2", {}, "Configuration"), config),
      ),
    ),
  );

  let shownVersion: number | undefined;
  status = poll("function", STATUS_MS, signal, async () => {
    const answer = await api.get<FunctionStatus>(functionPath(name), signal);
    fill(state, ...stateBadge(answer));
    const set = (field: string, text: string) => (facts.get(field)!.textContent = text);
    set("version", `v${answer.version}`);
    set("replicas", `${answer.replicas.ready}/${answer.replicas.desired}`);
    set("lag", String(answer.lag.total));
    set("circuit", answer.circuit);
    set("processed", String(answer.stats.processed));
    set("failed", String(answer.stats.failed));
    set("retried", String(answer.stats.retried));
    set("deadLettered", String(answer.stats.deadLettered));
    set("p50", ms(answer.stats.p50Ms));
    set("p99", ms(answer.stats.p99Ms));
    set("scaler", answer.scaler.mode);
    operations.update(answer);
    keyState.update(answer);
    // Configuration and versions change only with the version (deploy or rollback).
    if (answer.version !== shownVersion) {
      fill(config, configList(answer));
      await versions.load();
      shownVersion = answer.version; // only now: a failed load is tried again on the next poll
    }
  });
  poll("function-history", HISTORY_MS, signal, async () => {
    charts.update(await api.get<History>(functionPath(name, "/history"), signal));
  });
}

/** The configuration, one line per field; nested fields as compact JSON. Secrets by name only: the API never returns values. */
function configList(status: FunctionStatus): HTMLDListElement {
  const pairs: [string, Node | string][] = Object.entries(status.config).map(([key, value]) => [
    key,
    typeof value === "object" && value !== null ? el("code", {}, JSON.stringify(value)) : String(value),
  ]);
  pairs.push(["secrets", status.secrets.length === 0 ? "none" : el("code", {}, status.secrets.join(", "))]);
  pairs.push(["handler", status.handler]);
  return definitions(pairs);
}
