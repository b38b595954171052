/** The function's live log: `GET …/logs?follow=true` streamed, newest at the bottom, reconnecting until the page is left. */
import { ApiError, functionPath, messageOf } from "./api.js";
import { clearError, reportError } from "./banner.js";
import { el } from "./dom.js";
import { clockMs } from "./format.js";
import type { PageContext } from "./page.js";
import { readEvents } from "./sse.js";
import type { LogLevel, LogLine } from "./types.js";

const MAX_LINES = 500;
const RECONNECT_MS = 2_000;
const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

export function liveLogCard({ api, signal }: PageContext, name: string): HTMLElement {
  const filter = el("select", { id: "log-level", "aria-label": "Lowest level shown" }, ...LEVELS.map((level) => el("option", { value: level }, `${level} and above`)));
  const log = el("div", { "data-testid": "log", class: "log", role: "log", "aria-live": "off" });
  const card = el("section", { class: "card wide" }, el("div", { class: "card-head" }, el("h2", {}, "Live log"), filter), log);

  const visible = (level: string) => LEVELS.indexOf(level as LogLevel) >= LEVELS.indexOf(filter.value as LogLevel);
  filter.onchange = () => {
    for (const line of log.children) (line as HTMLElement).hidden = !visible((line as HTMLElement).dataset.level ?? "info");
    log.scrollTop = log.scrollHeight;
  };

  // Each (re)connection first resends the recent lines; the keys of the lines on screen let those through once only.
  const keys: string[] = [];
  const shown = new Set<string>();
  const add = (line: LogLine) => {
    const key = `${line.at}|${line.source}|${line.level}|${line.message}`;
    if (shown.has(key)) return;
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const row = el(
      "div",
      { class: `log-line level-${line.level}`, "data-level": line.level, title: line.traceId === undefined ? undefined : `trace ${line.traceId}` },
      el("time", { datetime: line.at }, clockMs(line.at)),
      el("span", { class: "level" }, line.level.toUpperCase()),
      el("span", { class: "source" }, line.source === "eddy" ? "[eddy]" : "[fn]"),
      el("span", { class: "message" }, line.message),
    );
    row.hidden = !visible(line.level);
    log.append(row);
    keys.push(key);
    shown.add(key);
    while (keys.length > MAX_LINES) {
      log.firstElementChild?.remove();
      shown.delete(keys.shift()!);
    }
    // Follow the newest line, unless the reader has scrolled up to read an older one.
    if (atBottom) log.scrollTop = log.scrollHeight;
  };

  void (async () => {
    while (!signal.aborted) {
      try {
        const response = await api.stream(functionPath(name, "/logs?follow=true"), signal);
        clearError("log");
        await readEvents(response.body!, (event, data) => {
          if (event === "log") add(JSON.parse(data) as LogLine);
        });
      } catch (error) {
        if (signal.aborted || (error instanceof ApiError && error.status === 401)) return;
        reportError("log", `Live log: ${messageOf(error)}`);
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, RECONNECT_MS);
        signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), { once: true });
      });
    }
    clearError("log");
  })();
  return card;
}
