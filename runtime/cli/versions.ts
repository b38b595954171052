import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

interface Versions {
  current: number;
  versions: { version: number; current: boolean; deployedAt: string; digest: string; config: { topics: string[] } }[];
}

export function registerVersionCommands(program: Command): void {
  program
    .command("versions <name>")
    .description("list a function's stored versions, oldest first")
    .action(async (name: string, _options: unknown, command: Command) => {
      const listed = await callApi<Versions>(configFor(command), "GET", functionRoute(name, "/versions"));
      if (wantsJson(command)) return void process.stdout.write(`${JSON.stringify(listed)}\n`);
      for (const v of listed.versions) {
        process.stdout.write(`${v.current ? "*" : " "} v${v.version}\t${v.deployedAt}\t${v.digest.slice(0, 12)}\t${v.config.topics.join(",")}\n`);
      }
    });

  program
    .command("rollback <name> <version>")
    .description("make a stored version's code and configuration current again")
    .action(async (name: string, version: string, _options: unknown, command: Command) => {
      const number = Number(version.replace(/^v/, ""));
      if (!Number.isInteger(number) || number < 1) throw new EddyError("EDDY_CLI_BAD_VERSION", `<version>: expected a version number like 3, got ${version}`, { userError: true });
      const fn = await callApi<{ name: string; version: number }>(configFor(command), "POST", functionRoute(name, "/rollback"), { version: number });
      process.stdout.write(wantsJson(command) ? `${JSON.stringify(fn)}\n` : `${fn.name} is at v${fn.version}\n`);
    });
}
