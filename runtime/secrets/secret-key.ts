import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { EddyError } from "../eddy-error.js";

const KEY_BYTES = 32;

/** `EDDY_SECRET_KEY` as 64 hex characters or base64/base64url of 32 bytes; one clear error otherwise. */
export function parseSecretKey(text: string, from: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (key.length !== KEY_BYTES || (!/^[0-9a-fA-F]{64}$/.test(trimmed) && !/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed))) {
    throw new EddyError("EDDY_CONFIG_INVALID", `${from}: expected a 32-byte key as 64 hex characters or base64 (make one with 'openssl rand -base64 32')`, {
      userError: true,
    });
  }
  return key;
}

export function secretKeyPath(dataDir: string): string {
  return path.join(dataDir, "secret.key");
}

/**
 * The key that seals functions' secrets: `EDDY_SECRET_KEY` when set, else `<dataDir>/secret.key`,
 * generated once (mode 0600). Losing it makes the stored secrets unreadable (they must be put again).
 */
export async function loadSecretKey(configured: string | null, dataDir: string): Promise<Buffer> {
  if (configured) return parseSecretKey(configured, "EDDY_SECRET_KEY");
  const file = secretKeyPath(dataDir);
  try {
    return parseSecretKey(await readFile(file, "utf8"), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = randomBytes(KEY_BYTES);
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" }).catch(async (error: NodeJS.ErrnoException) => {
    // Another process wrote it first: use that one.
    if (error.code !== "EEXIST") throw error;
  });
  return parseSecretKey(await readFile(file, "utf8"), file);
}
