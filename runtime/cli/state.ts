import type { Command } from "commander";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

interface StateAnswer {
  key: string;
  value: unknown;
  partition: number;
  updatedAt: string;
  fresh: boolean;
}

/** `eddy state get <function> <key>`: a key's ctx.state, read from the function's changelog by the control plane. */
export function registerStateCommands(program: Command): void {
  const state = program.command("state").description("read a stateful function's per-key state (ctx.state)");
  state
    .command("get <name> <key>")
    .description("print the current state of one key (JSON); works while the function runs at zero replicas")
    .action(async (name: string, key: string, _options: unknown, command: Command) => {
      const answer = await callApi<StateAnswer>(configFor(command), "GET", functionRoute(name, `/state/${encodeURIComponent(key)}`));
      if (wantsJson(command)) {
        process.stdout.write(`${JSON.stringify(answer)}\n`);
        return;
      }
      process.stdout.write(`${JSON.stringify(answer.value, null, 2)}\n`);
      const stale = answer.fresh ? "" : " (the changelog could not be read to its end: this may not be the newest write)";
      process.stderr.write(`${key}: partition ${answer.partition}, written ${answer.updatedAt}${stale}\n`);
    });
}
