import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The harness's source: present when running from source (tests), absent in dist/. */
const SOURCE = fileURLToPath(new URL("./isolate/harness.ts", import.meta.url));
/** Where `npm run build` leaves the bundled harness, next to the compiled harness-script.js. */
const PREBUILT = fileURLToPath(new URL("./isolate/harness.bundle.js", import.meta.url));

let script: Promise<string> | undefined;

/**
 * The in-isolate harness (isolate/harness.ts and what it imports, the SDK's event builder
 * included) as one classic script, once per process: the one `npm run build` prebuilt when there
 * is one (a worker then neither loads esbuild nor bundles at start), else bundled here (tests run
 * from source).
 */
export function harnessScript(): Promise<string> {
  script ??= loadHarness().catch((error: unknown) => {
    script = undefined;
    throw error;
  });
  return script;
}

async function loadHarness(): Promise<string> {
  // From source (tests) the harness is .ts and always bundled fresh; from dist/ it is prebuilt.
  if (!existsSync(SOURCE) && existsSync(PREBUILT)) return readFile(PREBUILT, "utf8");
  return bundleHarness();
}

/** Bundles the harness with esbuild (loaded only here: a worker with a prebuilt harness never needs it). */
async function bundleHarness(): Promise<string> {
  const { build } = await import("esbuild");
  const entry = existsSync(SOURCE) ? SOURCE : fileURLToPath(new URL("./isolate/harness.js", import.meta.url));
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

/** `npm run build`'s last step: writes the bundled harness to dist/ (see PREBUILT). */
export async function prebuildHarness(): Promise<string> {
  await writeFile(PREBUILT, await bundleHarness());
  return PREBUILT;
}
