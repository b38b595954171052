import type { HostFunctions } from "../wire.js";
import { atob, btoa } from "./base64.js";
import { formatError, formatLogArgs } from "./format.js";
import { EddyTextDecoder, EddyTextEncoder } from "./text-codec.js";
import type { Timers } from "./timers.js";

/**
 * Installs the web-style globals SPEC §4 promises on top of the bare V8 context. A bare context has
 * no `process`, `require`, file system or sockets to begin with; nothing here adds them.
 * Not yet provided: URL, crypto.randomUUID/getRandomValues, structuredClone, performance, fetch.
 */
export function installGlobals(host: Pick<HostFunctions, "log">, timers: Timers): void {
  const define = (name: string, value: unknown) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  Object.defineProperty(EddyTextEncoder, "name", { value: "TextEncoder" });
  Object.defineProperty(EddyTextDecoder, "name", { value: "TextDecoder" });
  define("TextEncoder", EddyTextEncoder);
  define("TextDecoder", EddyTextDecoder);
  define("atob", atob);
  define("btoa", btoa);
  define("setTimeout", timers.setTimeout);
  define("setInterval", timers.setInterval);
  define("clearTimeout", timers.clearTimeout);
  define("clearInterval", timers.clearTimeout);
  const resolved = Promise.resolve();
  define("queueMicrotask", (callback: unknown) => {
    if (typeof callback !== "function") throw new TypeError("queueMicrotask: callback: expected a function");
    resolved.then(callback as () => void).catch((error: unknown) => host.log("error", `Uncaught ${formatError(error)} (in a microtask)`));
  });
  const write = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) => host.log(level, formatLogArgs(args));
  define("console", {
    debug: write("debug"),
    trace: write("debug"),
    log: write("info"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    assert: (condition: unknown, ...args: unknown[]) => {
      if (!condition) host.log("error", formatLogArgs(["Assertion failed", ...args]));
    },
  });
}
