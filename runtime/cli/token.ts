import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { callApi } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

interface TokenInfo {
  id: string;
  name: string;
  scope: string;
  functions?: string;
  createdAt: string;
}

const SCOPES = ["read", "deploy", "admin"];

function describeScope(token: TokenInfo): string {
  return token.functions === undefined ? token.scope : `${token.scope} (functions ${token.functions})`;
}

/** `eddy token create|ls|revoke`: scoped API tokens (SPEC §6). Every call needs the admin token. */
export function registerTokenCommands(program: Command): void {
  const token = program.command("token").description("create, list and revoke scoped API tokens (needs the admin token)");

  token
    .command("create")
    .description("create a token and print its secret: it is shown this once only")
    .requiredOption("--scope <scope>", "read (GET routes), deploy (also deploy, invoke, replay, redrive, pause, resume, rollback, secrets) or admin")
    .option("--functions <pattern>", "limit a deploy token to functions whose names match, e.g. 'team-a-*'")
    .option("--name <name>", "what the token is for")
    .action(async (options: { scope: string; functions?: string; name?: string }, command: Command) => {
      if (!SCOPES.includes(options.scope)) {
        throw new EddyError("EDDY_CLI_BAD_SCOPE", `--scope: expected read, deploy or admin, got ${options.scope}`, { userError: true });
      }
      const body = { scope: options.scope, ...(options.name !== undefined ? { name: options.name } : {}), ...(options.functions !== undefined ? { functions: options.functions } : {}) };
      const created = await callApi<TokenInfo & { token: string }>(configFor(command), "POST", "/v1/tokens", body);
      if (wantsJson(command)) return void process.stdout.write(`${JSON.stringify(created)}\n`);
      // The secret alone on stdout, so `TOKEN=$(eddy token create …)` works; the note goes to stderr.
      process.stderr.write(`created token ${created.id}: ${describeScope(created)}. Store it now: it is not shown again.\n`);
      process.stdout.write(`${created.token}\n`);
    });

  token
    .command("ls")
    .description("list scoped tokens (ids, scopes and names; never their secrets)")
    .action(async (_options: unknown, command: Command) => {
      const { tokens } = await callApi<{ tokens: TokenInfo[] }>(configFor(command), "GET", "/v1/tokens");
      if (wantsJson(command)) return void process.stdout.write(`${JSON.stringify(tokens)}\n`);
      for (const t of tokens) process.stdout.write(`${t.id}\t${describeScope(t)}\t${t.name || "-"}\t${t.createdAt}\n`);
    });

  // No --yes: revoking only takes access away, and in an incident it must be one quick command.
  token
    .command("revoke <id>")
    .description("revoke a token: it is refused from now on")
    .action(async (id: string, _options: unknown, command: Command) => {
      await callApi(configFor(command), "DELETE", `/v1/tokens/${encodeURIComponent(id)}`);
      process.stdout.write(wantsJson(command) ? `${JSON.stringify({ id, revoked: true })}\n` : `revoked ${id}\n`);
    });
}
