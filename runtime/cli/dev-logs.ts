import type { EddyConfig } from "../config/load-config.js";
import type { LogLine } from "../control/log-book.js";
import { callApi, followApi, functionRoute } from "./api-client.js";

interface Status {
  state: string;
  stateReason?: string;
  stats: { processed: number; p50Ms: number };
}

const RECONNECT_MS = 1_000;
const STATUS_EVERY_MS = 1_000;

/**
 * One function's activity as `eddy dev` shows it: its log lines and Eddy's (followed), and how many
 * records it processed (from its status, polled: Eddy logs failures, not successes).
 */
export class FunctionTail {
  private stopped = false;
  /** The newest line shown (at first: when the session began, so that older lines are not shown). */
  private shownUpTo: number;
  private processed: number | undefined;
  private state: string | undefined;
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: EddyConfig,
    private readonly name: string,
    private readonly print: (line: string) => void,
    since: Date,
  ) {
    this.shownUpTo = since.getTime();
  }

  start(): void {
    void this.follow();
    this.poller = setInterval(() => void this.poll(), STATUS_EVERY_MS);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poller);
  }

  /** Follows the logs route, again after each drop (an Eddy restarting), until stopped. */
  private async follow(): Promise<void> {
    while (!this.stopped) {
      // Each (re)connection sends the recent lines first: those of before the cutoff were shown, or are not news.
      // Only those: live lines may come slightly out of time order (the worker's log and its IPC are two pipes).
      const cutoff = this.shownUpTo;
      await followApi(this.config, functionRoute(this.name, "/logs?follow=true"), (data) => this.show(JSON.parse(data) as LogLine, cutoff)).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }

  private show(line: LogLine, cutoff: number): void {
    const at = Date.parse(line.at);
    if (this.stopped || at < cutoff) return;
    this.shownUpTo = Math.max(this.shownUpTo, at);
    this.print(formatLine(line));
  }

  private async poll(): Promise<void> {
    const status = await callApi<Status>(this.config, "GET", functionRoute(this.name)).catch(() => undefined);
    if (!status || this.stopped) return;
    const { processed } = status.stats;
    // A restarted Eddy counts from zero again.
    if (this.processed !== undefined && processed > this.processed) {
      const count = processed - this.processed;
      this.print(`${clock(new Date())} OK    ${count} record${count === 1 ? "" : "s"} processed (${processed} in all, p50 ${status.stats.p50Ms} ms)`);
    }
    this.processed = processed;
    if (status.state === "failing" && this.state !== "failing") this.print(`${clock(new Date())} ERROR ${this.name} is failing: ${status.stateReason ?? "see the lines above"}`);
    this.state = status.state;
  }
}

/**
 * A log line as one readable line: the function's own with its level, and the worker's failures and
 * dead letters with where they happened, e.g. `12:00:01.250 FAIL  orders[2]@41, attempt 1 (retrying): TypeError: x is undefined`.
 */
export function formatLine(line: LogLine): string {
  const time = clock(new Date(line.at));
  if (line.source === "function") return `${time} ${line.level.toUpperCase().padEnd(5)} ${line.message}`;
  const c = line.context ?? {};
  const where = typeof c.topic === "string" ? `${c.topic}[${String(c.partition)}]@${String(c.offset)}` : undefined;
  if (where && line.message.startsWith("invocation failed")) {
    const error = c.error as { name?: string; message?: string } | undefined;
    const next = c.next === "retry" ? " (retrying)" : c.next === "dead-letter" ? " (dead-lettering)" : "";
    return `${time} FAIL  ${where}, attempt ${String(c.attempt)}${next}: ${error?.name ?? "Error"}: ${error?.message ?? "unknown"}`;
  }
  if (where && line.message.startsWith("record dead-lettered")) {
    const attempts = typeof c.attempts === "number" ? ` after ${c.attempts} attempt${c.attempts === 1 ? "" : "s"}` : "";
    return `${time} DEAD  ${where} dead-lettered to ${String(c.dlt)}${attempts}`;
  }
  return `${time} ${line.level.toUpperCase().padEnd(5)} [eddy] ${line.message}`;
}

/** Local wall-clock time to the millisecond: a dev loop's lines are read as they come. */
function clock(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}
