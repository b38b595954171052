import type { HostFunctions } from "../wire.js";
import { atob, btoa } from "./base64.js";
import { createCrypto } from "./crypto.js";
import { formatError } from "./format.js";
import type { LogBudget } from "./log-budget.js";
import { EddyTextDecoder, EddyTextEncoder } from "./text-codec.js";
import type { Timers } from "./timers.js";
import type { UrlClasses } from "./url.js";

/**
 * Installs the globals SPEC §4 promises on top of the bare V8 context: TextEncoder/TextDecoder,
 * URL (and URLSearchParams), atob/btoa, crypto.randomUUID/getRandomValues, console (→ the
 * function's log, within its budget), timers bounded by the invocation, queueMicrotask.
 * A bare context has no `process`, `require`, file system or sockets to begin with; nothing here
 * adds them. WebAssembly is removed: its memories live outside the heap limit (a 16 MB isolate
 * could commit gigabytes through one WebAssembly.Memory).
 */
export function installGlobals(
  host: Pick<HostFunctions, "log" | "randomBytes">,
  timers: Timers,
  logs: LogBudget,
  urls: UrlClasses,
): void {
  const define = (name: string, value: unknown) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  delete (globalThis as Record<string, unknown>).WebAssembly;
  Object.defineProperty(EddyTextEncoder, "name", { value: "TextEncoder" });
  Object.defineProperty(EddyTextDecoder, "name", { value: "TextDecoder" });
  define("TextEncoder", EddyTextEncoder);
  define("TextDecoder", EddyTextDecoder);
  define("URL", urls.URL);
  define("URLSearchParams", urls.URLSearchParams);
  define("atob", atob);
  define("btoa", btoa);
  define("crypto", Object.freeze(createCrypto(host)));
  define("setTimeout", timers.setTimeout);
  define("setInterval", timers.setInterval);
  define("clearTimeout", timers.clearTimeout);
  define("clearInterval", timers.clearTimeout);
  const resolved = Promise.resolve();
  define("queueMicrotask", (callback: unknown) => {
    if (typeof callback !== "function") throw new TypeError("queueMicrotask: callback: expected a function");
    resolved.then(callback as () => void).catch((error: unknown) => host.log("error", `Uncaught ${formatError(error)} (in a microtask)`));
  });
  const write = (level: "debug" | "info" | "warn" | "error") => (...args: unknown[]) => logs.write(level, args);
  define("console", {
    debug: write("debug"),
    trace: write("debug"),
    log: write("info"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    assert: (condition: unknown, ...args: unknown[]) => {
      if (!condition) logs.write("error", ["Assertion failed", ...args]);
    },
  });
}
