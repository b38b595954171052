/** Pause/resume, replay, redrive and dead-lettering a stuck record, each confirmed first; and the one place where every operation's outcome shows. */
import { functionPath, messageOf } from "./api.js";
import { confirmAction } from "./confirm.js";
import { el } from "./dom.js";
import type { PageContext } from "./page.js";
import { guard } from "./permissions.js";
import type { FunctionStatus, StuckRecord } from "./types.js";

export interface Operator {
  /** Asks `question`; on yes runs `request`, shows the sentence it returns (or the API's error), then refreshes the status. */
  run(question: string, yesLabel: string, request: () => Promise<string>): Promise<void>;
  /** Shows a message without asking anything (e.g. a form that is not filled in). */
  show(message: string, ok: boolean): void;
}

export function operator(result: HTMLElement, refresh: () => void): Operator {
  const show = (message: string, ok: boolean) => {
    result.textContent = message;
    result.className = ok ? "operation-result ok" : "operation-result failed";
    result.hidden = false;
  };
  return {
    show,
    async run(question, yesLabel, request) {
      if (!(await confirmAction(question, yesLabel))) return;
      show(`${yesLabel}…`, true);
      try {
        show(await request(), true);
      } catch (error) {
        show(`${yesLabel} failed: ${messageOf(error)}`, false);
      }
      refresh();
    },
  };
}

interface ReplayAnswer {
  offsets: { topic: string; partition: number; offset: string }[];
  paused: boolean;
}

/** The operations card; `update` shows the buttons that apply to the latest status. */
export function operationsCard({ api, who }: PageContext, name: string, op: Operator): { card: HTMLElement; update(status: FunctionStatus): void } {
  const path = (action: string) => functionPath(name, `/${action}`);
  const button = (action: string, label: string) => guard(el("button", { type: "button", "data-action": action }, label), who, name);

  const pause = button("pause", "Pause");
  pause.onclick = () => void op.run(`Pause ${name}? Its replicas stop consuming until you resume it.`, "Pause", async () => {
    await api.post(path("pause"));
    return `${name} paused`;
  });
  const resume = button("resume", "Resume");
  resume.onclick = () => void op.run(`Resume ${name}?`, "Resume", async () => {
    await api.post(path("resume"));
    return `${name} resumed`;
  });

  const from = el(
    "select",
    { id: "replay-from", "aria-label": "Replay from" },
    el("option", { value: "earliest" }, "the earliest record"),
    el("option", { value: "latest" }, "the latest record (skip the backlog)"),
    el("option", { value: "time" }, "a time…"),
  );
  const at = el("input", { id: "replay-time", type: "datetime-local", step: 1, "aria-label": "Replay from this time", hidden: true });
  from.onchange = () => (at.hidden = from.value !== "time");
  const replay = button("replay", "Replay");
  replay.onclick = () => {
    let target = from.value;
    if (target === "time") {
      // datetime-local is the browser's local time; the API wants an absolute ISO time.
      const when = new Date(at.value);
      if (at.value === "" || Number.isNaN(when.getTime())) return op.show("Replay: pick the time to replay from.", false);
      target = when.toISOString();
    }
    void op.run(`Move ${name}'s consumer group to ${target} and reprocess from there?`, "Replay", async () => {
      const answer = await api.post<ReplayAnswer>(path("replay"), { from: target });
      const offsets = answer.offsets.map((o) => `${o.topic}[${o.partition}] → ${o.offset}`).join(", ");
      return `replaying ${name} from ${offsets || target}${answer.paused ? " (it stays paused until resumed)" : ""}`;
    });
  };

  const redrive = button("redrive", "Redrive dead letters");
  redrive.onclick = () => void op.run(`Reprocess ${name}'s dead-letter topic through the current version?`, "Redrive", async () => {
    const answer = await api.post<{ topic: string; total: number }>(path("redrive"));
    return `redriving ${answer.total} record${answer.total === 1 ? "" : "s"} from ${answer.topic}`;
  });
  const lastRedrive = el("p", { class: "muted" });
  // A record its partition waits behind: the operator may judge it poison and move it on (POST …/dead-letter).
  const stuck = el("div", { class: "stuck-records" });
  const crashes = el("p", { class: "muted" });
  const stuckRow = (record: StuckRecord) => {
    const where = `${record.topic}/${record.partition}@${record.offset}`;
    const move = button("dead-letter", "Dead-letter it");
    move.onclick = () => void op.run(`Move ${where} to ${name}'s dead-letter topic with its last error, so that its partition goes on?`, "Dead-letter", async () => {
      const answer = await api.post<{ message: string }>(path("dead-letter"), { topic: record.topic, partition: record.partition, offset: record.offset });
      return answer.message;
    });
    const why = `${where} has waited ${Math.round(record.waitingMs / 1000)} s (${record.attempts} attempts, last ${record.lastError.name}: ${record.lastError.message})`;
    return el("div", { class: "row stuck-record" }, el("span", {}, why), move);
  };

  const card = el(
    "section",
    { class: "card operations" },
    el("h2", {}, "Operations"),
    el("div", { class: "row" }, pause, resume),
    el("div", { class: "row" }, el("label", { for: "replay-from" }, "Replay from"), from, at, replay),
    el("div", { class: "row" }, redrive),
    lastRedrive,
    stuck,
    crashes,
  );
  return {
    card,
    update(status) {
      const paused = status.state === "paused";
      pause.hidden = paused;
      resume.hidden = !paused;
      const r = status.redrive;
      lastRedrive.textContent =
        r === undefined ? "" : `Last redrive: ${r.state}, ${r.done} of ${r.total} (${r.succeeded} succeeded, ${r.deadLettered} dead-lettered again)${r.error === undefined ? "" : `: ${r.error}`}`;
      stuck.replaceChildren(...(status.stuck ?? []).map(stuckRow));
      const last = status.crashes?.last;
      crashes.textContent =
        last == null ? "" : `Last worker crash with records in flight: ${last.at}, replica ${last.replica}, ${last.exit}, ${last.inFlight} in flight; ${status.crashes!.suspects} suspects, ${status.crashes!.quarantined} quarantined`;
    },
  };
}
