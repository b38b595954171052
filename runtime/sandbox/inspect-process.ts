import { fileURLToPath } from "node:url";
import { EddyError } from "../eddy-error.js";
import { checkBundleSize } from "./bundler.js";
import { keepWarm, runOnceInChild } from "./child-once.js";
import type { FunctionInfo } from "./function-sandbox.js";

const INSPECT_CHILD = fileURLToPath(new URL("./inspect-child.js", import.meta.url));
const INSPECT_TIMEOUT_MS = 15_000;
/** Enough for any sane module's top level; the function's own `memoryMb` applies when it runs. */
const INSPECT_MEMORY_MB = 128;

type IpcError = { code?: string; message: string; userError?: boolean; context?: Record<string, unknown> };

export function serializeForIpc(error: unknown): IpcError {
  if (error instanceof EddyError) return { code: error.code, message: error.message, userError: error.userError, context: error.context };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Keeps an inspecting process started ahead of the next deploy (the control plane calls it once). */
export function keepInspectorWarm(): void {
  keepWarm(INSPECT_CHILD);
}

/**
 * Loads a bundle in a separate process and returns what the function declares (name, topics, config).
 *
 * @throws EddyError EDDY_BUNDLE_FAILED when the bundle is over MAX_BUNDLE_BYTES (prebuilt bundles
 *   are checked here), EDDY_SANDBOX_INVALID_FUNCTION when it does not load into a definition.
 */
export function inspectBundle(code: string): Promise<FunctionInfo> {
  try {
    checkBundleSize(code, "bundle");
  } catch (error) {
    return Promise.reject(error);
  }
  return runOnceInChild<{ ok: true; info: FunctionInfo } | { ok: false; error: IpcError }>(
    INSPECT_CHILD,
    { code, memoryMb: INSPECT_MEMORY_MB },
    INSPECT_TIMEOUT_MS,
  ).then((outcome) => {
    if (outcome.kind === "timeout") {
      throw new EddyError("EDDY_SANDBOX_INVALID_FUNCTION", `loading the function took longer than ${INSPECT_TIMEOUT_MS} ms: does its top level loop forever?`, {
        userError: true,
      });
    }
    if (outcome.kind === "exit") {
      throw new EddyError("EDDY_SANDBOX_INVALID_FUNCTION", `loading the function crashed its process (${outcome.detail})`, { userError: true });
    }
    const { reply } = outcome;
    if (reply.ok) return reply.info;
    throw new EddyError(reply.error.code ?? "EDDY_SANDBOX_INVALID_FUNCTION", reply.error.message, {
      userError: reply.error.userError ?? true,
      context: reply.error.context,
    });
  });
}
