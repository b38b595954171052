import { describe, expect, it } from "vitest";
import { parseFunctionConfig } from "../config/function-config.js";
import type { FunctionRecord } from "../config/function-record.js";
import { RegistryState, versionKey } from "./registry-state.js";

const parsed = parseFunctionConfig({ name: "fn", topics: ["in"] });
if (!parsed.ok) throw new Error("fixture");
const record = (version: number, digest = `d${version}`): FunctionRecord => ({
  name: "fn",
  version,
  config: parsed.config,
  handler: "handle",
  code: "",
  digest,
  deployedAt: "2025-01-01T00:00:00.000Z",
});
const pointer = (version: number, paused = false) => JSON.stringify({ version, paused });

describe("the registry's state, rebuilt from the log", () => {
  it("keeps every version under its own key and follows the pointer, rollbacks included", () => {
    const state = new RegistryState();
    expect(state.apply(versionKey("fn", 1), JSON.stringify(record(1)))).toBeNull();
    expect(state.apply("fn", pointer(1))?.entry?.record.version).toBe(1);
    state.apply(versionKey("fn", 2), JSON.stringify(record(2)));
    expect(state.apply("fn", pointer(2))?.entry?.record.version).toBe(2);
    expect(state.apply("fn", pointer(1))?.entry?.record.version).toBe(1);
    expect(state.history("fn").map((r) => r.version)).toEqual([1, 2]);
    expect(state.nextVersion("fn")).toBe(3);
  });

  it("reports a pause as a change, and an echo of the same pointer as none", () => {
    const state = new RegistryState();
    state.apply(versionKey("fn", 1), JSON.stringify(record(1)));
    state.apply("fn", pointer(1));
    expect(state.apply("fn", pointer(1))).toBeNull();
    expect(state.apply("fn", pointer(1, true))?.entry).toMatchObject({ paused: true });
  });

  it("forgets a deleted function and its history; versions start again at 1", () => {
    const state = new RegistryState();
    state.apply(versionKey("fn", 1), JSON.stringify(record(1)));
    state.apply("fn", pointer(1));
    expect(state.apply("fn", null)).toEqual({ name: "fn", entry: null });
    state.apply(versionKey("fn", 1), null);
    expect(state.entries()).toEqual([]);
    expect(state.nextVersion("fn")).toBe(1);
  });

  it("reads a whole record under the name, as written before versions had their own keys", () => {
    const state = new RegistryState();
    expect(state.apply("fn", JSON.stringify(record(4)))?.entry).toMatchObject({ paused: false, record: { version: 4 } });
    expect(state.nextVersion("fn")).toBe(5);
  });

  it("ignores a pointer to a version it does not hold, and unreadable records", () => {
    const state = new RegistryState();
    expect(state.apply("fn", pointer(7))).toBeNull();
    expect(state.apply(versionKey("fn", 1), "{not json")).toBeNull();
    expect(state.entries()).toEqual([]);
  });
});
