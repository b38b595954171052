import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, progress, wantsJson } from "./context.js";

const AGO = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `--from`: earliest, latest, an ISO-8601 time, a duration ago (`15m`, `2h`, `1d`), explicit offsets as
 * `topic:partition=offset,…`, or the API's JSON form `{"topic":{"0":"15"}}`.
 */
export function parseFrom(from: string, now = Date.now()): unknown {
  const text = from.trim();
  if (text === "earliest" || text === "latest") return text;
  if (text.startsWith("{")) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new EddyError("EDDY_CLI_BAD_FROM", `--from: not valid JSON: ${text.slice(0, 40)}`, { userError: true });
    }
  }
  const ago = AGO.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS]).toISOString();
  if (/^[^:,=]+:\d+=\d+(,[^:,=]+:\d+=\d+)*$/.test(text)) {
    const offsets: Record<string, Record<string, string>> = {};
    for (const part of text.split(",")) {
      const [, topic, partition, offset] = /^([^:]+):(\d+)=(\d+)$/.exec(part)!;
      (offsets[topic!] ??= {})[partition!] = offset!;
    }
    return offsets;
  }
  // V8's Date.parse reads almost anything as a date ("orders=5" included): only ISO-8601 counts here.
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(Date.parse(text))) {
    throw new EddyError("EDDY_CLI_BAD_FROM", `--from: expected earliest, latest, an ISO-8601 time, a duration ago like 15m, or topic:partition=offset, got ${text}`, {
      userError: true,
    });
  }
  return new Date(text).toISOString();
}

export function registerReplayCommand(program: Command): void {
  program
    .command("replay <name>")
    .description("move a function's consumer group (earliest, latest, a time, or offsets) and reprocess from there")
    .requiredOption("--from <position>", "earliest | latest | ISO-8601 time | 15m, 2h, 1d (ago) | topic:partition=offset,…")
    .action(async (name: string, options: { from: string }, command: Command) => {
      const config = configFor(command);
      const from = parseFrom(options.from);
      progress(`Moving ${name}'s consumer group to ${typeof from === "string" ? from : JSON.stringify(from)}…`);
      const result = await callApi<{ offsets: { topic: string; partition: number; offset: string }[]; paused: boolean }>(
        config,
        "POST",
        functionRoute(name, "/replay"),
        { from },
      );
      if (wantsJson(command)) return void process.stdout.write(`${JSON.stringify(result)}\n`);
      for (const o of result.offsets) process.stdout.write(`${o.topic}[${o.partition}] → ${o.offset}\n`);
      process.stdout.write(result.paused ? `${name} is paused: 'eddy resume ${name}' to process\n` : `replaying ${name}\n`);
    });
}
