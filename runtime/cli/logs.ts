import type { Command } from "commander";
import { callApi, followApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

interface LogLine {
  at: string;
  level: string;
  source: "function" | "eddy";
  message: string;
  traceId?: string;
}

function format(line: LogLine): string {
  // With tracing on, the line leads to its trace: "trace=<id>" as trace UIs take it in their search.
  const trace = line.traceId ? ` trace=${line.traceId}` : "";
  return `${line.at} ${line.level.toUpperCase().padEnd(5)} ${line.source === "eddy" ? "[eddy] " : ""}${line.message}${trace}`;
}

export function registerLogsCommand(program: Command): void {
  program
    .command("logs <name>")
    .description("show a function's recent log lines and invocation errors, newest last")
    .option("-f, --follow", "keep streaming new lines until interrupted")
    .option("-n, --limit <lines>", "how many recent lines (1-1000, default 100)")
    .action(async (name: string, options: { follow?: boolean; limit?: string }, command: Command) => {
      const config = configFor(command);
      const json = wantsJson(command);
      const print = (line: LogLine) => process.stdout.write(json ? `${JSON.stringify(line)}\n` : `${format(line)}\n`);
      const query = new URLSearchParams();
      if (options.limit) query.set("limit", options.limit);
      if (options.follow) {
        query.set("follow", "true");
        process.on("SIGINT", () => process.exit(0));
        await followApi(config, functionRoute(name, `/logs?${query}`), (data) => print(JSON.parse(data) as LogLine));
        return;
      }
      const { lines } = await callApi<{ lines: LogLine[] }>(config, "GET", functionRoute(name, `/logs${query.size ? `?${query}` : ""}`));
      for (const line of lines) print(line);
    });
}
