import type { Command } from "commander";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";
import { secretsFromOptions } from "./secret-input.js";

interface SecretList {
  name: string;
  version: number;
  secrets: string[];
}

/** `eddy secret put|rm|ls`: change a function's secrets without a new bundle (each change is a new version). */
export function registerSecretCommands(program: Command): void {
  const secret = program.command("secret").description("set, remove and list a function's write-only secrets");

  secret
    .command("put <function> <NAME>")
    .description("set a secret; its value comes from $NAME or standard input (never from the command line)")
    .action(async (fn: string, name: string, _options: unknown, command: Command) => {
      const { [name]: value } = await secretsFromOptions([name]);
      const result = await callApi<SecretList>(configFor(command), "PUT", functionRoute(fn, `/secrets/${encodeURIComponent(name)}`), { value });
      process.stdout.write(wantsJson(command) ? `${JSON.stringify(result)}\n` : `${result.name} v${result.version}: secret ${name} set\n`);
    });

  secret
    .command("rm <function> <NAME>")
    .description("remove a secret")
    .action(async (fn: string, name: string, _options: unknown, command: Command) => {
      const result = await callApi<SecretList>(configFor(command), "DELETE", functionRoute(fn, `/secrets/${encodeURIComponent(name)}`));
      process.stdout.write(wantsJson(command) ? `${JSON.stringify(result)}\n` : `${result.name} v${result.version}: secret ${name} removed\n`);
    });

  secret
    .command("ls <function>")
    .description("list a function's secret names (values are never shown)")
    .action(async (fn: string, _options: unknown, command: Command) => {
      const result = await callApi<SecretList>(configFor(command), "GET", functionRoute(fn, "/secrets"));
      process.stdout.write(wantsJson(command) ? `${JSON.stringify(result)}\n` : result.secrets.map((s) => `${s}\n`).join(""));
    });
}
