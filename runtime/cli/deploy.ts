import type { Command } from "commander";
import type { EddyConfig } from "../config/load-config.js";
import { EddyError } from "../eddy-error.js";
import { bundleEntryFile } from "../sandbox/bundler.js";
import { callApi } from "./api-client.js";
import { configFor, progress, wantsJson } from "./context.js";
import { secretsFromOptions } from "./secret-input.js";

/** The API's answer to a deploy. */
export interface Deployed {
  name: string;
  version: number;
  config: { topics: string[] };
}

/** What a deploy sends beside the bundle. */
export interface DeployExtras {
  /** Deploy under this name instead of the one in the code. */
  name?: string;
  env?: Record<string, string>;
  secrets?: Record<string, string>;
}

/** `--env K=V` flags as variables; a flag without "=" is refused, naming it. */
export function envFromOptions(flags: string[]): Record<string, string> {
  const bad = flags.find((kv) => !/^[^=]+=/.test(kv));
  if (bad !== undefined) throw new EddyError("EDDY_CLI_BAD_ENV", `--env: expected NAME=value, got ${bad}`, { userError: true });
  return Object.fromEntries(flags.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

/** Uploads a bundle built locally (bundleEntryFile): a new version, or the current one when nothing changed. */
export function uploadBundle(config: EddyConfig, bundle: string, extras: DeployExtras = {}): Promise<Deployed> {
  return callApi<Deployed>(config, "POST", "/v1/functions", {
    bundle,
    ...(extras.name ? { config: { name: extras.name } } : {}),
    ...(extras.env ? { env: extras.env } : {}),
    ...(extras.secrets ? { secrets: extras.secrets } : {}),
  });
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
      const env = options.env ? envFromOptions(options.env) : undefined;
      progress(`Bundling ${file}…`);
      const bundle = await bundleEntryFile(file);
      progress(`Uploading ${(bundle.length / 1024).toFixed(1)} KB to ${config.url}…`);
      const deployed = await uploadBundle(config, bundle, { name: options.name, env, secrets });
      process.stdout.write(
        wantsJson(command) ? `${JSON.stringify(deployed)}\n` : `deployed ${deployed.name} v${deployed.version} on ${deployed.config.topics.join(", ")}\n`,
      );
    });
}
