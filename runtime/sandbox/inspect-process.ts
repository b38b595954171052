import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { EddyError } from "../eddy-error.js";
import { checkBundleSize } from "./bundler.js";
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
  return new Promise((resolve, reject) => {
    const child = fork(INSPECT_CHILD, [], { execArgv: ["--no-node-snapshot"], stdio: ["ignore", "ignore", "pipe", "ipc"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new EddyError("EDDY_SANDBOX_INVALID_FUNCTION", `loading the function took longer than ${INSPECT_TIMEOUT_MS} ms: does its top level loop forever?`, {
              userError: true,
            }),
          ),
        ),
      INSPECT_TIMEOUT_MS,
    );
    child.once("message", (reply: { ok: true; info: FunctionInfo } | { ok: false; error: IpcError }) =>
      finish(() => {
        if (reply.ok) return resolve(reply.info);
        const { error } = reply;
        reject(new EddyError(error.code ?? "EDDY_SANDBOX_INVALID_FUNCTION", error.message, { userError: error.userError ?? true, context: error.context }));
      }),
    );
    child.once("exit", (code, signal) =>
      finish(() =>
        reject(
          new EddyError("EDDY_SANDBOX_INVALID_FUNCTION", `loading the function crashed its process (${signal ?? `exit ${code}`}): ${stderr.trim().split("\n").pop() ?? ""}`, {
            userError: true,
          }),
        ),
      ),
    );
    child.send({ code, memoryMb: INSPECT_MEMORY_MB });
  });
}
