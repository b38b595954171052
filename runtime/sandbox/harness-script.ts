import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

let script: Promise<string> | undefined;

/**
 * The in-isolate harness (isolate/harness.ts and what it imports, the SDK's event builder
 * included) as one classic script, bundled once per process.
 */
export function harnessScript(): Promise<string> {
  script ??= bundleHarness().catch((error: unknown) => {
    script = undefined;
    throw error;
  });
  return script;
}

async function bundleHarness(): Promise<string> {
  // From source (tests) the harness is .ts; from dist/ it is the compiled .js.
  const source = fileURLToPath(new URL("./isolate/harness.ts", import.meta.url));
  const entry = existsSync(source) ? source : fileURLToPath(new URL("./isolate/harness.js", import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "iife",
    platform: "neutral",
    target: "es2022",
    charset: "utf8",
    logLevel: "silent",
    // Strict mode everywhere in the harness: a sloppy function reading `fn.caller` or
    // Error.prepareStackTrace's call sites (getThis, getFunction) then gets nothing of it.
    banner: { js: '"use strict";' },
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error("esbuild produced no harness output");
  return output.text;
}
