import type { Command } from "commander";
import { callApi } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

interface Listed {
  functions: { name: string; version: number; deployedAt: string; config: { topics: string[] } }[];
}

export function registerLsCommand(program: Command): void {
  program
    .command("ls")
    .description("list deployed functions")
    .action(async (_options: unknown, command: Command) => {
      const listed = await callApi<Listed>(configFor(command), "GET", "/v1/functions");
      if (wantsJson(command)) return void process.stdout.write(`${JSON.stringify(listed.functions)}\n`);
      if (listed.functions.length === 0) return void process.stdout.write("no functions deployed\n");
      for (const f of listed.functions) process.stdout.write(`${f.name}\tv${f.version}\t${f.config.topics.join(",")}\t${f.deployedAt}\n`);
    });
}
