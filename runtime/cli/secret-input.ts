import { createInterface } from "node:readline";
import { EddyError } from "../eddy-error.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

async function readStdin(prompt: string): Promise<string> {
  if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    return new Promise((resolve) => rl.question(prompt, (answer) => (rl.close(), resolve(answer))));
  }
  let text = "";
  for await (const chunk of process.stdin) text += String(chunk);
  // `echo value | eddy …` adds one newline that is not part of the value.
  return text.replace(/\r?\n$/, "");
}

/**
 * The secrets of `--secret NAME=value` and `--secret NAME` (repeatable). A bare NAME takes its value
 * from the environment variable of that name, else from standard input, so that the value stays out of
 * the shell's history. (This reads `process.env` by the user's own request, outside loadConfig: the
 * variable is the user's, not Eddy's setting.)
 */
export async function secretsFromOptions(entries: string[], env: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
  const secrets: Record<string, string> = {};
  let stdinUsed = false;
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (!NAME.test(name)) throw new EddyError("EDDY_CLI_BAD_SECRET", `--secret: expected NAME=value or NAME (a variable name), got ${name}`, { userError: true });
    if (eq >= 0) {
      secrets[name] = entry.slice(eq + 1);
      continue;
    }
    const fromEnv = env[name];
    if (fromEnv !== undefined) {
      secrets[name] = fromEnv;
      continue;
    }
    if (stdinUsed) throw new EddyError("EDDY_CLI_BAD_SECRET", `--secret ${name}: standard input already gave another secret; set ${name} in the environment`, { userError: true });
    stdinUsed = true;
    secrets[name] = await readStdin(`Value of ${name}: `);
  }
  return secrets;
}
