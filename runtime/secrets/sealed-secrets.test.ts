import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canOpen, openSecrets, secretNames, secretsFingerprint, updateSecrets } from "./sealed-secrets.js";
import { parseSecretKey } from "./secret-key.js";

const key = randomBytes(32);
const VALUE = "sk_live_correct-horse-battery-staple";

describe("sealed secrets", () => {
  it("seal and open back, and the sealed form shows no value", () => {
    const sealed = updateSecrets(key, "billing", undefined, { set: { API_KEY: VALUE, REGION_TOKEN: "t-1" } })!;
    expect(openSecrets(key, "billing", sealed)).toEqual({ API_KEY: VALUE, REGION_TOKEN: "t-1" });
    expect(secretNames(sealed)).toEqual(["API_KEY", "REGION_TOKEN"]);
    const stored = JSON.stringify(sealed) + secretsFingerprint(sealed);
    expect(stored).not.toContain(VALUE);
    expect(stored).not.toContain(Buffer.from(VALUE).toString("base64"));
  });

  it("keep a repeated value as it was sealed, and reseal a changed one", () => {
    const first = updateSecrets(key, "billing", undefined, { set: { API_KEY: VALUE } })!;
    const same = updateSecrets(key, "billing", first, { set: { API_KEY: VALUE } })!;
    expect(same).toEqual(first);
    expect(secretsFingerprint(same)).toBe(secretsFingerprint(first));
    const changed = updateSecrets(key, "billing", first, { set: { API_KEY: "other" } })!;
    expect(secretsFingerprint(changed)).not.toBe(secretsFingerprint(first));
    expect(updateSecrets(key, "billing", changed, { remove: ["API_KEY"] })).toBeUndefined();
  });

  it("do not open with another key, naming the function", () => {
    const sealed = updateSecrets(key, "billing", undefined, { set: { API_KEY: VALUE } })!;
    const other = randomBytes(32);
    expect(canOpen(other, sealed)).toBe(false);
    expect(canOpen(key, sealed)).toBe(true);
    expect(() => openSecrets(other, "billing", sealed)).toThrow(/cannot read the secrets of 'billing'/);
    expect(() => updateSecrets(other, "billing", sealed, { set: { B: "x" } })).toThrow(/EDDY_SECRET_KEY/);
  });

  it("do not open when moved to another function or name", () => {
    const sealed = updateSecrets(key, "billing", undefined, { set: { API_KEY: VALUE } })!;
    expect(() => openSecrets(key, "spy", sealed)).toThrow(/cannot read the secrets of 'spy'/);
    const renamed = { ...sealed, entries: { OTHER: sealed.entries.API_KEY! } };
    expect(() => openSecrets(key, "billing", renamed)).toThrow(/cannot read/);
  });
});

describe("parseSecretKey", () => {
  it.each([
    ["hex", randomBytes(32).toString("hex"), true],
    ["base64", randomBytes(32).toString("base64"), true],
    ["base64url", randomBytes(32).toString("base64url"), true],
    ["too short", randomBytes(16).toString("base64"), false],
    ["a passphrase", "correct horse battery staple", false],
  ])("%s", (_what, text, ok) => {
    if (ok) expect(parseSecretKey(text, "EDDY_SECRET_KEY")).toHaveLength(32);
    else expect(() => parseSecretKey(text, "EDDY_SECRET_KEY")).toThrow(/EDDY_SECRET_KEY: expected a 32-byte key/);
  });
});
