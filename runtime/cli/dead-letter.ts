import type { Command } from "commander";
import type { RecordPosition } from "../dispatcher/stuck-records.js";
import { EddyError } from "../eddy-error.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

/**
 * `topic/partition@offset` (as `eddy get` names a stuck record). Topic names cannot hold "/", so the
 * last one ends the topic.
 *
 * @example
 * parsePosition("orders/2@1041") // { topic: "orders", partition: 2, offset: "1041" }
 */
export function parsePosition(text: string): RecordPosition {
  const match = /^(.+)\/(\d+)@(\d+)$/.exec(text);
  if (match === null) {
    throw new EddyError("EDDY_CLI_BAD_POSITION", `expected <topic>/<partition>@<offset>, e.g. orders/2@1041, got '${text}'`, { userError: true });
  }
  return { topic: match[1]!, partition: Number(match[2]), offset: match[3]! };
}

export function registerDeadLetterCommand(program: Command): void {
  program
    .command("dead-letter <name> <position>")
    .description("move a failed record its partition waits behind (see `eddy get`) to the dead-letter topic: <topic>/<partition>@<offset>")
    .action(async (name: string, position: string, _options: unknown, command: Command) => {
      const body = parsePosition(position);
      const answer = await callApi<{ message: string }>(configFor(command), "POST", functionRoute(name, "/dead-letter"), body);
      process.stdout.write(wantsJson(command) ? `${JSON.stringify(answer)}\n` : `${answer.message}\n`);
    });
}
