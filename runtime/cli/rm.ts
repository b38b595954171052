import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

/** Asks on the terminal; never when stdin is not one (scripts, CI), where --yes is required. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerRmCommand(program: Command): void {
  program
    .command("rm <name>")
    .description("undeploy a function (its consumer group stays unless --delete-group)")
    .option("-y, --yes", "do not ask for confirmation (required when not interactive)")
    .option("--delete-group", "also delete the function's consumer group (its committed offsets) and, for a stateful function, its state changelog")
    .action(async (name: string, options: { yes?: boolean; deleteGroup?: boolean }, command: Command) => {
      const config = configFor(command);
      if (!options.yes) {
        if (!process.stdin.isTTY) {
          throw new EddyError("EDDY_CLI_CONFIRM", `refusing to delete ${name} without confirmation: pass --yes`, { userError: true });
        }
        if (!(await confirm(`Delete function ${name}${options.deleteGroup ? " and its consumer group" : ""}? [y/N] `))) {
          throw new EddyError("EDDY_CLI_CONFIRM", "not deleted", { userError: true });
        }
      }
      await callApi(config, "DELETE", functionRoute(name, options.deleteGroup ? "?deleteGroup=true" : ""));
      process.stdout.write(wantsJson(command) ? `${JSON.stringify({ name, deleted: true, groupDeleted: options.deleteGroup === true })}\n` : `deleted ${name}\n`);
    });
}
