import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { EddyError } from "../eddy-error.js";

export type { SealedSecrets } from "../config/function-record.js";
import type { SealedSecrets } from "../config/function-record.js";

const FORMAT = "v1";

/** The key's id: a MAC of a constant under it (it reveals nothing of the key). */
export function keyIdOf(key: Buffer): string {
  return createHmac("sha256", key).update("eddy secret key id").digest("hex").slice(0, 16);
}

function bound(functionName: string, secretName: string): Buffer {
  return Buffer.from(`${functionName}\u0000${secretName}`, "utf8");
}

function macOf(key: Buffer, functionName: string, secretName: string, value: string): string {
  return createHmac("sha256", key).update(bound(functionName, secretName)).update("\u0000").update(value, "utf8").digest("base64url");
}

export function seal(key: Buffer, functionName: string, secretName: string, value: string): { sealed: string; mac: string } {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(bound(functionName, secretName));
  const ciphertext = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  const sealed = [FORMAT, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
  return { sealed, mac: macOf(key, functionName, secretName, value) };
}

/**
 * The sealed secrets after setting `set` (plain values) and removing `remove`. A value equal to the one
 * already sealed keeps its sealed form, so a deploy that repeats a secret changes nothing.
 */
export function updateSecrets(
  key: Buffer,
  functionName: string,
  current: SealedSecrets | undefined,
  change: { set?: Record<string, string>; remove?: string[] },
): SealedSecrets | undefined {
  const keyId = keyIdOf(key);
  if (current && current.keyId !== keyId && Object.keys(current.entries).length > 0) {
    throw secretKeyMismatch([functionName]);
  }
  const entries = { ...(current?.entries ?? {}) };
  for (const name of change.remove ?? []) delete entries[name];
  for (const [name, value] of Object.entries(change.set ?? {})) {
    const existing = entries[name];
    entries[name] = existing && existing.mac === macOf(key, functionName, name, value) ? existing : seal(key, functionName, name, value);
  }
  return Object.keys(entries).length === 0 ? undefined : { keyId, entries };
}

/** The secrets' names, sorted: all that any answer, log or metric ever shows of them. */
export function secretNames(secrets: SealedSecrets | undefined): string[] {
  return Object.keys(secrets?.entries ?? {}).sort();
}

/** What identifies the secrets' values for a record's digest, without revealing them (names and keyed MACs). */
export function secretsFingerprint(secrets: SealedSecrets | undefined): string {
  return secretNames(secrets)
    .map((name) => `${name}=${secrets!.entries[name]!.mac}`)
    .join("\n");
}

/** Opens every secret of a function: only the worker that runs it and its dry-run and redrive children do this. */
export function openSecrets(key: Buffer, functionName: string, secrets: SealedSecrets | undefined): Record<string, string> {
  if (!secrets) return {};
  if (secrets.keyId !== keyIdOf(key)) throw secretKeyMismatch([functionName]);
  const opened: Record<string, string> = {};
  for (const [name, { sealed }] of Object.entries(secrets.entries)) {
    const [format, iv, tag, ciphertext] = sealed.split(".");
    if (format !== FORMAT || !iv || !tag || ciphertext === undefined) throw secretKeyMismatch([functionName]);
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAAD(bound(functionName, name));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      opened[name] = Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw secretKeyMismatch([functionName]);
    }
  }
  return opened;
}

/** True when `key` is the one the function's secrets were sealed with (or it has none). */
export function canOpen(key: Buffer, secrets: SealedSecrets | undefined): boolean {
  return !secrets || Object.keys(secrets.entries).length === 0 || secrets.keyId === keyIdOf(key);
}

export function secretKeyMismatch(functions: string[]): EddyError {
  return new EddyError(
    "EDDY_SECRET_KEY_MISMATCH",
    `cannot read the secrets of ${functions.map((f) => `'${f}'`).join(", ")}: they were sealed with another secret key. ` +
      "Start Eddy with the key they were written with (EDDY_SECRET_KEY, or the old <dataDir>/secret.key), or put their secrets again with 'eddy secret put'",
    { userError: true, context: { functions } },
  );
}
