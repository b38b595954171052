import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { bundleEntryFile } from "../sandbox/bundler.js";
import { callApi } from "./api-client.js";
import { configFor, progress, wantsJson } from "./context.js";
import { secretsFromOptions } from "./secret-input.js";

interface Deployed {
  name: string;
  version: number;
  config: { topics: string[] };
}

export function registerDeployCommand(program: Command): void {
  program
    .command("deploy <file>")
    .description("bundle a function locally (resolving this project's node_modules) and deploy it")
    .option("--name <name>", "deploy under this name instead of the one in the code")
    .option("--env <K=V...>", "a variable visible as ctx.env (repeatable)")
    .option("--secret <K=V|K...>", "a write-only variable (repeatable); a bare NAME reads its value from $NAME or standard input")
    .action(async (file: string, options: { name?: string; env?: string[]; secret?: string[] }, command: Command) => {
      const config = configFor(command);
      const secrets = options.secret ? await secretsFromOptions(options.secret) : undefined;
      const bad = (options.env ?? []).find((kv) => !/^[^=]+=/.test(kv));
      if (bad !== undefined) throw new EddyError("EDDY_CLI_BAD_ENV", `--env: expected NAME=value, got ${bad}`, { userError: true });
      progress(`Bundling ${file}…`);
      const bundle = await bundleEntryFile(file);
      progress(`Uploading ${(bundle.length / 1024).toFixed(1)} KB to ${config.url}…`);
      const env = Object.fromEntries((options.env ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
      const deployed = await callApi<Deployed>(config, "POST", "/v1/functions", {
        bundle,
        ...(options.name ? { config: { name: options.name } } : {}),
        ...(options.env ? { env } : {}),
        ...(secrets ? { secrets } : {}),
      });
      process.stdout.write(
        wantsJson(command) ? `${JSON.stringify(deployed)}\n` : `deployed ${deployed.name} v${deployed.version} on ${deployed.config.topics.join(", ")}\n`,
      );
    });
}
