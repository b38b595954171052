import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, progress, wantsJson } from "./context.js";

interface Redrive {
  state: "running" | "done" | "failed";
  topic: string;
  total: number;
  done: number;
  succeeded: number;
  deadLettered: number;
  error?: string;
}

const POLL_MS = 500;

export function registerRedriveCommand(program: Command): void {
  program
    .command("redrive <name>")
    .description("reprocess the function's dead-letter topic through its current version; records failing again are dead-lettered again")
    .option("--no-wait", "return once the redrive started instead of following it to the end")
    .action(async (name: string, options: { wait: boolean }, command: Command) => {
      const config = configFor(command);
      let redrive = await callApi<Redrive>(config, "POST", functionRoute(name, "/redrive"));
      progress(`Redriving ${redrive.total} record${redrive.total === 1 ? "" : "s"} from ${redrive.topic}…`);
      let shown = -1;
      while (options.wait && redrive.state === "running") {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        redrive = (await callApi<{ redrive: Redrive }>(config, "GET", functionRoute(name))).redrive;
        if (redrive.done !== shown) progress(`  ${redrive.done}/${redrive.total}`);
        shown = redrive.done;
      }
      if (wantsJson(command)) process.stdout.write(`${JSON.stringify(redrive)}\n`);
      else if (redrive.state === "running") process.stdout.write(`redrive of ${name} started (${redrive.total} records); 'eddy get ${name}' shows its progress\n`);
      else process.stdout.write(`redrove ${redrive.done} of ${redrive.total}: ${redrive.succeeded} succeeded, ${redrive.deadLettered} dead-lettered again\n`);
      if (redrive.state === "failed") throw new EddyError("EDDY_CLI_REDRIVE_FAILED", `the redrive failed: ${redrive.error ?? "unknown"}`, { userError: true });
    });
}
