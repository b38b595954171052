import type { FunctionRecord } from "../config/function-record.js";
import { openSecrets } from "./sealed-secrets.js";

/** What the function sees as `ctx.env`: its plain variables, and its secrets opened (secrets win on a shared name). */
export function functionEnv(record: FunctionRecord, secretKey: Buffer | null): Record<string, string> {
  if (!record.secrets) return record.config.env;
  if (!secretKey) throw new Error(`function ${record.name} has secrets but no secret key was given`);
  return { ...record.config.env, ...openSecrets(secretKey, record.name, record.secrets) };
}
