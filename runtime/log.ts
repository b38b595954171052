import { createRequire } from "node:module";
import pino from "pino";

type Prettify = (line: string) => string;

const destination = pino.destination({ fd: 2, sync: true });
/** Set by setLogFormat("pretty"): turns a JSON line into a readable one. */
let prettify: Prettify | undefined;

/**
 * Eddy's logs: one JSON object a line on stderr, so stdout stays free for command output, or readable
 * lines after setLogFormat("pretty"). loadConfig()'s callers set the level and the format.
 */
export const log = pino({ base: { pid: process.pid }, level: "info" }, { write: (line: string) => void destination.write(prettify ? prettify(line) : line) });

/**
 * "pretty": time, level, function and message on one line (pino-pretty, loaded only then, so that
 * workers, which always write JSON for the control plane to read, never load it).
 */
export function setLogFormat(format: "json" | "pretty", colors = process.stderr.isTTY === true): void {
  if (format === "json") {
    prettify = undefined;
    return;
  }
  const { prettyFactory } = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
  prettify = prettyFactory({
    colorize: colors,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,function",
    messageFormat: "{if function}[{function}] {end}{msg}",
    singleLine: true,
  });
}

/** A line of a child process' log (JSON from a worker) passing through this process: written as this process writes its own. */
export function writeLogLine(line: string): void {
  destination.write(prettify !== undefined && line.startsWith("{") ? prettify(line) : `${line}\n`);
}
