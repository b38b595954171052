import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

interface InvokeResult {
  ok: boolean;
  error?: { name: string; message: string };
  emitted: { topic: string; key: string | null; value: string | null; encoding?: "base64" }[];
  logs: { level: string; message: string }[];
  durationMs: number;
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    throw new EddyError("EDDY_CLI_BAD_DATA", `--data: expected JSON (quote a string as '"text"'), got ${data.slice(0, 40)}`, { userError: true });
  }
}

export function registerInvokeCommand(program: Command): void {
  program
    .command("invoke <name>")
    .description("run a function once on one event in the sandbox (a dry run: nothing is produced or committed)")
    .requiredOption("--data <json>", "the event's value, as JSON")
    .option("--key <key>", "the event's key")
    .option("-H, --header <name=value...>", "an event header (repeatable)")
    .action(async (name: string, options: { data: string; key?: string; header?: string[] }, command: Command) => {
      const config = configFor(command);
      const headers = Object.fromEntries((options.header ?? []).map((h) => [h.slice(0, h.indexOf("=")), h.slice(h.indexOf("=") + 1)]));
      const event = { value: parseData(options.data), ...(options.key !== undefined ? { key: options.key } : {}), ...(options.header ? { headers } : {}) };
      const result = await callApi<InvokeResult>(config, "POST", functionRoute(name, "/invoke"), { events: [event] });
      if (wantsJson(command)) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        for (const log of result.logs) process.stdout.write(`log ${log.level}: ${log.message}\n`);
        for (const e of result.emitted) {
          process.stdout.write(`emit ${e.topic}${e.key !== null ? ` key=${e.key}` : ""}: ${e.value ?? "null"}${e.encoding ? ` (${e.encoding})` : ""}\n`);
        }
        process.stdout.write(result.ok ? `ok in ${result.durationMs} ms\n` : "");
      }
      if (!result.ok) {
        throw new EddyError("EDDY_CLI_INVOKE_FAILED", `the function failed: ${result.error?.name ?? "Error"}: ${result.error?.message ?? "unknown"}`, { userError: true });
      }
    });
}
