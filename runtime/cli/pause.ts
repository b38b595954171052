import type { Command } from "commander";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

export function registerPauseCommands(program: Command): void {
  for (const action of ["pause", "resume"] as const) {
    program
      .command(`${action} <name>`)
      .description(action === "pause" ? "stop processing a function (kept across restarts) until resumed" : "start processing a paused function again")
      .action(async (name: string, _options: unknown, command: Command) => {
        const fn = await callApi<{ name: string; version: number; paused: boolean }>(configFor(command), "POST", functionRoute(name, `/${action}`));
        process.stdout.write(wantsJson(command) ? `${JSON.stringify(fn)}\n` : `${fn.name} ${fn.paused ? "paused" : "resumed"}\n`);
      });
  }
}
