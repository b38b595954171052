import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export function tokenPath(dataDir: string): string {
  return path.join(dataDir, "token");
}

/** The token `eddy start` uses when EDDY_API_TOKEN is unset: kept in `<dataDir>/token` (0600) so restarts and the CLI share it. */
export async function ensureApiToken(dataDir: string): Promise<string> {
  const existing = await readApiToken(dataDir);
  if (existing) return existing;
  const token = randomBytes(32).toString("base64url");
  await mkdir(dataDir, { recursive: true });
  await writeFile(tokenPath(dataDir), `${token}\n`, { mode: 0o600 });
  return token;
}

export async function readApiToken(dataDir: string): Promise<string | null> {
  try {
    return (await readFile(tokenPath(dataDir), "utf8")).trim() || null;
  } catch {
    return null;
  }
}
