/** One line of `GET /v1/functions/:name/logs`. */
export interface LogLine {
  at: string;
  level: "debug" | "info" | "warn" | "error";
  /** "function": ctx.log or console in the function; "eddy": Eddy about the function (failed invocations, dead-lettering). */
  source: "function" | "eddy";
  message: string;
  /** For Eddy's lines: where it happened and the error, when the worker said. */
  context?: Record<string, unknown>;
  /** With tracing on, the trace and span of the invocation that wrote the line (ctx.log; console.* when alone in flight). */
  traceId?: string;
  spanId?: string;
}

type Listener = (line: LogLine) => void;

/** Lines kept per function: enough to see what just happened, bounded so a chatty function cannot grow the control plane. */
export const LOG_LINES_KEPT = 1_000;

const pinoLevels: Record<number, LogLine["level"]> = { 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "error" };

/**
 * The recent log lines of each function, in a ring buffer per function, and the live listeners of
 * `?follow=true`. The lines come from the workers: the functions' own lines over IPC, and Eddy's
 * warnings and errors about them (an invocation failed, a record was dead-lettered) from the worker's log.
 */
export class LogBook {
  private readonly lines = new Map<string, LogLine[]>();
  private readonly listeners = new Map<string, Set<Listener>>();

  /** A line of Eddy's own about the function (a replay, a redrive, an operator's decision), stamped now unless `at` is given. */
  appendEddy(name: string, level: LogLine["level"], message: string, at = new Date().toISOString()): void {
    this.append(name, { at, level, source: "eddy", message });
  }

  append(name: string, line: LogLine): void {
    let kept = this.lines.get(name);
    if (!kept) this.lines.set(name, (kept = []));
    kept.push(line);
    if (kept.length > LOG_LINES_KEPT) kept.splice(0, kept.length - LOG_LINES_KEPT);
    for (const listener of this.listeners.get(name) ?? []) listener(line);
  }

  /** The newest `limit` lines, newest last. */
  recent(name: string, limit = LOG_LINES_KEPT): LogLine[] {
    const kept = this.lines.get(name) ?? [];
    return kept.slice(Math.max(0, kept.length - limit));
  }

  /** Calls `listener` with every new line of the function until the returned function is called. */
  subscribe(name: string, listener: Listener): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
    };
  }

  /** A deleted function's lines go with it. */
  forget(name: string): void {
    this.lines.delete(name);
  }

  /**
   * Keeps a worker's own log line (pino JSON) when it is a warning or an error about the function,
   * e.g. "invocation failed" with the record's place and the error.
   */
  appendWorkerOutput(name: string, text: string): void {
    if (!text.startsWith("{")) return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    const level = pinoLevels[Number(entry.level)];
    if (level !== "warn" && level !== "error") return;
    if (entry.source === "function" || entry.kafkajs !== undefined) return;
    const { msg, time, level: _level, pid: _pid, hostname: _host, function: _fn, trace_id, span_id, ...context } = entry;
    this.append(name, {
      at: typeof time === "number" ? new Date(time).toISOString() : new Date().toISOString(),
      level,
      source: "eddy",
      message: describe(String(msg ?? ""), context),
      context,
      ...(typeof trace_id === "string" && typeof span_id === "string" ? { traceId: trace_id, spanId: span_id } : {}),
    });
  }
}

/** "invocation failed: orders[2]@41, attempt 3: TypeError: x is undefined" from a worker's log entry. */
function describe(message: string, context: Record<string, unknown>): string {
  const where = typeof context.topic === "string" ? ` ${context.topic}[${String(context.partition)}]@${String(context.offset)}` : "";
  const attempt = context.attempt !== undefined ? `, attempt ${String(context.attempt)}` : "";
  const error = context.error as { name?: string; message?: string } | undefined;
  const err = context.err as { type?: string; message?: string } | undefined;
  const cause = error?.message ? `: ${error.name ?? "Error"}: ${error.message}` : err?.message ? `: ${err.message}` : "";
  return `${message}${where ? `:${where}` : ""}${attempt}${cause}`;
}
