/** `#/`: every function in one table, refreshed in place (statuses every 2 s, history every 5 s). */
import { ApiError, functionPath } from "./api.js";
import { el, fill } from "./dom.js";
import { ms, rate } from "./format.js";
import type { PageContext } from "./page.js";
import { poll } from "./poll.js";
import { sparkline } from "./sparkline.js";
import { stateBadge } from "./state-badge.js";
import type { FunctionStatus, FunctionSummary, History } from "./types.js";

const STATUS_MS = 2_000;
const HISTORY_MS = 5_000;

const COLUMNS: [field: string, heading: string][] = [
  ["name", "Function"],
  ["state", "State"],
  ["version", "Version"],
  ["replicas", "Replicas"],
  ["lag", "Lag"],
  ["in", "In /s"],
  ["out", "Out /s"],
  ["p99", "p99 ms"],
  ["circuit", "Circuit"],
  ["processed", "Processed"],
  ["deadLettered", "Dead-lettered"],
  ["sparkline", "Lag, last hour"],
];

type Row = { tr: HTMLTableRowElement; cells: Map<string, HTMLTableCellElement> };

export function functionsPage(main: HTMLElement, { api, signal }: PageContext): void {
  document.title = "Eddy: functions";
  const body = el("tbody");
  const table = el(
    "table",
    { "data-testid": "functions", class: "functions" },
    el("thead", {}, el("tr", {}, ...COLUMNS.map(([field, heading]) => el("th", { scope: "col", "data-field": field }, heading)))),
    body,
  );
  const empty = el("p", { class: "empty", hidden: true }, "No functions yet: deploy one with ", el("code", {}, "eddy deploy <file>"));
  const scroller = el("div", { class: "table-scroll" }, table);
  main.append(el("h1", {}, "Functions"), scroller, empty);

  const rows = new Map<string, Row>();
  let names: string[] = [];

  // Declared first so that the status poll can ask for histories as soon as it knows new names.
  const histories = poll("functions-history", HISTORY_MS, signal, async () => {
    const asked = names;
    const answers = await Promise.allSettled(asked.map((name) => api.get<History>(functionPath(name, "/history"), signal)));
    answers.forEach((history, i) => {
      const row = rows.get(asked[i]!);
      if (row !== undefined && history.status === "fulfilled") showHistory(row, history.value);
    });
  });
  poll("functions", STATUS_MS, signal, async () => {
    const { functions } = await api.get<{ functions: FunctionSummary[] }>("/v1/functions", signal);
    const known = names.join();
    names = functions.map((f) => f.name).sort();
    // A function deleted between the two calls answers 404: keep the rest of the table.
    const statuses = await Promise.allSettled(names.map((name) => api.get<FunctionStatus>(functionPath(name), signal)));
    for (const [name, row] of rows) {
      if (!names.includes(name)) {
        row.tr.remove();
        rows.delete(name);
      }
    }
    names.forEach((name, i) => {
      const row = rows.get(name) ?? newRow(name);
      rows.set(name, row);
      body.appendChild(row.tr); // appending an existing row moves it: keeps the table in name order
      const status = statuses[i]!;
      if (status.status === "fulfilled") showStatus(row, status.value);
    });
    empty.hidden = names.length > 0;
    scroller.hidden = names.length === 0;
    if (names.join() !== known) histories.now();
    // Failures other than that one still belong in the banner.
    const failure = statuses.find((s): s is PromiseRejectedResult => s.status === "rejected" && !(s.reason instanceof ApiError && s.reason.status === 404));
    if (failure !== undefined) throw failure.reason;
  });
}

function newRow(name: string): Row {
  const cells = new Map(COLUMNS.map(([field]) => [field, el("td", { "data-field": field })] as const));
  fill(cells.get("name")!, el("a", { href: `#/functions/${encodeURIComponent(name)}` }, name));
  return { tr: el("tr", { "data-function": name }, ...cells.values()), cells };
}

function showStatus({ cells }: Row, status: FunctionStatus): void {
  const set = (field: string, text: string) => {
    const cell = cells.get(field)!;
    if (cell.textContent !== text) cell.textContent = text;
  };
  fill(cells.get("state")!, ...stateBadge(status));
  set("version", `v${status.version}`);
  set("replicas", `${status.replicas.ready}/${status.replicas.desired}`);
  set("lag", String(status.lag.total));
  set("p99", ms(status.stats.p99Ms));
  set("circuit", status.circuit);
  cells.get("circuit")!.className = `circuit-${status.circuit}`;
  set("processed", String(status.stats.processed));
  set("deadLettered", String(status.stats.deadLettered));
}

function showHistory({ cells }: Row, history: History): void {
  const newest = history.samples.at(-1);
  cells.get("in")!.textContent = rate(newest?.arrivalPerSec);
  cells.get("out")!.textContent = rate(newest?.processedPerSec);
  fill(cells.get("sparkline")!, sparkline(history.samples.map((s) => s.lag), `lag over the last hour, now ${newest?.lag ?? 0}`));
}
