import { builtinModules } from "node:module";
import { existsSync } from "node:fs";
import { dirname, posix, resolve } from "node:path";
import { build, context, type BuildOptions, type Loader, type Message, type Plugin } from "esbuild";
import { bundleFailedError, bundleTooLargeError, type BundleDiagnostic } from "./errors.js";
import { MAX_BUNDLE_BYTES } from "./limits.js";
import { packageRoot, sdkEntry } from "../package-root.js";
import { BUNDLE_GLOBAL_NAME } from "./wire.js";

/** One TS/JS module, or several in-memory files with an entry among them (paths relative, "/" separated). */
export type BundleInput = { source: string; filename?: string } | { files: Record<string, string>; entry: string };

export interface BundleOptions {
  /** The largest bundle accepted, in bytes of UTF-8. Default MAX_BUNDLE_BYTES (5 MiB). */
  maxBundleBytes?: number;
}

const NAMESPACE = "eddy-files";
const DEFAULT_FILENAME = "function.ts";
const PACKAGE_FIX = "bundle it with `eddy deploy`, which resolves local node_modules";
const builtins = new Set(builtinModules);

/**
 * Bundles a function into one classic script for the isolate: an IIFE that assigns the module to
 * `globalThis.__eddyModule`. Only relative imports among the given files and `eddy/sdk` resolve;
 * Node built-ins and packages fail, since nothing outside the bundle exists in the isolate.
 *
 * @throws EddyError `EDDY_BUNDLE_FAILED` (userError) listing every problem as `file:line:col: text`.
 * @example
 * ```ts
 * const code = await bundleFunction({ source: 'import { defineFunction } from "eddy/sdk"; export default defineFunction({...})' });
 * const sandbox = await FunctionSandbox.create({ code, ... });
 * ```
 */
export async function bundleFunction(input: BundleInput, options: BundleOptions = {}): Promise<string> {
  const { files, entry } = normalizeInput(input);
  if (!(entry in files)) {
    throw bundleFailedError([{ file: "", line: 0, column: 0, message: `entry: "${entry}" is not one of the files (${Object.keys(files).join(", ") || "none"})` }]);
  }
  let code: string;
  try {
    code = outputOf(await build(scriptOptions({ entryPoints: [entry], absWorkingDir: packageRoot(), plugins: [inMemoryFiles(files)] })));
  } catch (error) {
    throw asBundleError(error);
  }
  checkBundleSize(code, entry, options.maxBundleBytes);
  return code;
}

/**
 * Refuses a bundle over the limit, naming it (a deploy answers 422). Deploys of prebuilt bundles
 * call it too, before loading them.
 *
 * @throws EddyError `EDDY_BUNDLE_FAILED` (userError) with the size and the limit.
 * @example
 * ```ts
 * checkBundleSize(request.bundle, "bundle");
 * ```
 */
export function checkBundleSize(code: string, file: string, maxBundleBytes = MAX_BUNDLE_BYTES): void {
  const bytes = Buffer.byteLength(code, "utf8");
  if (bytes > maxBundleBytes) throw bundleTooLargeError(file, bytes, maxBundleBytes);
}

/**
 * Bundles a function file from disk, as `eddy deploy` does before uploading: relative imports and
 * packages resolve from the file's folder and its node_modules, `eddy/sdk` to Eddy's own SDK.
 *
 * @throws EddyError `EDDY_BUNDLE_FAILED` (userError) listing every problem as `file:line:col: text`.
 * @example
 * ```ts
 * const bundle = await bundleEntryFile("functions/order-confirmation.ts");
 * ```
 */
export async function bundleEntryFile(file: string, options: BundleOptions = {}): Promise<string> {
  if (!existsSync(file)) throw bundleFailedError([{ file, line: 0, column: 0, message: `no such file: ${file}` }]);
  let code: string;
  try {
    code = outputOf(await build(scriptOptions(entryFileOptions(file))));
  } catch (error) {
    throw asBundleError(error);
  }
  checkBundleSize(code, file, options.maxBundleBytes);
  return code;
}

/** A function file bundled again and again (`eddy dev`): each build as bundleEntryFile's, reusing what did not change. */
export interface EntryFileBuilder {
  /**
   * Bundles the file as it is now: the bundle, and every file it was built from (absolute paths).
   * @throws EddyError `EDDY_BUNDLE_FAILED` (userError) listing every problem as `file:line:col: text`.
   */
  build(): Promise<{ code: string; inputs: string[] }>;
  dispose(): Promise<void>;
}

/**
 * An incremental bundler of a function file (esbuild's context): the same options and checks as
 * bundleEntryFile, so what `eddy dev` deploys is what `eddy deploy` would.
 *
 * @example
 * ```ts
 * const builder = await entryFileBuilder("functions/order-confirmation.ts");
 * const { code, inputs } = await builder.build(); // again after each save
 * ```
 */
export async function entryFileBuilder(file: string, options: BundleOptions = {}): Promise<EntryFileBuilder> {
  if (!existsSync(file)) throw bundleFailedError([{ file, line: 0, column: 0, message: `no such file: ${file}` }]);
  const buildOptions = { ...scriptOptions(entryFileOptions(file)), metafile: true as const };
  const esbuild = await context(buildOptions);
  return {
    async build() {
      let code: string;
      let inputs: string[];
      try {
        const result = await esbuild.rebuild();
        code = outputOf(result);
        inputs = Object.keys(result.metafile.inputs).map((input) => resolve(buildOptions.absWorkingDir, input));
      } catch (error) {
        throw asBundleError(error);
      }
      checkBundleSize(code, file, options.maxBundleBytes);
      return { code, inputs };
    },
    dispose: () => esbuild.dispose(),
  };
}

/** How a file from disk is resolved: relative imports and packages from its folder, `eddy/sdk` to Eddy's own SDK. */
function entryFileOptions(file: string): BuildOptions & { absWorkingDir: string } {
  return {
    entryPoints: [resolve(file)],
    absWorkingDir: dirname(resolve(file)),
    // Packages ship ESM as "module" and CommonJS as "main"; the neutral platform looks at neither by default.
    mainFields: ["module", "main"],
    conditions: ["import", "default"],
    plugins: [sdkAndBuiltins()],
  };
}

/** One classic script for the isolate: an IIFE that assigns the module to `globalThis.__eddyModule`. */
function scriptOptions<T extends BuildOptions>(options: T) {
  return {
    ...options,
    bundle: true,
    write: false,
    format: "iife",
    globalName: BUNDLE_GLOBAL_NAME,
    platform: "neutral",
    target: "es2022",
    // import() of what is not in the bundle cannot work in the isolate; lowered, it fails with
    // 'Dynamic require of "x" is not supported' rather than V8's bare "Not supported".
    supported: { "dynamic-import": false },
    charset: "utf8",
    logLevel: "silent",
  } as const satisfies BuildOptions;
}

function outputOf(result: { outputFiles?: { text: string }[] }): string {
  const output = result.outputFiles?.[0];
  if (output === undefined) throw new Error("esbuild produced no output");
  return output.text;
}

function asBundleError(error: unknown): unknown {
  const messages = (error as { errors?: Message[] }).errors;
  if (!Array.isArray(messages) || messages.length === 0) return error;
  return bundleFailedError(messages.map(toDiagnostic), error);
}

function sdkAndBuiltins(): Plugin {
  return {
    name: "eddy-sdk-and-builtins",
    setup(b) {
      b.onResolve({ filter: /^eddy\/sdk$/ }, () => ({ path: sdkEntry() }));
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const bare = args.path.startsWith("node:") ? args.path.slice(5) : args.path;
        if (args.path.startsWith("node:") || builtins.has(bare.split("/")[0] ?? "")) return { errors: [{ text: unresolvableBareImport(args.path) }] };
        return undefined;
      });
    },
  };
}

function normalizeInput(input: BundleInput): { files: Record<string, string>; entry: string } {
  if ("source" in input) {
    const name = normalizePath(input.filename ?? DEFAULT_FILENAME);
    return { files: { [name]: input.source }, entry: name };
  }
  const files: Record<string, string> = {};
  for (const [path, contents] of Object.entries(input.files)) files[normalizePath(path)] = contents;
  return { files, entry: normalizePath(input.entry) };
}

function normalizePath(path: string): string {
  return posix.normalize(path.replaceAll("\\", "/")).replace(/^(\.\/|\/)+/, "");
}

function inMemoryFiles(files: Record<string, string>): Plugin {
  return {
    name: "eddy-in-memory-files",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === "entry-point") return { path: args.path, namespace: NAMESPACE };
        if (args.path === "eddy/sdk") return { path: sdkEntry() };
        // The SDK's own relative imports resolve on disk, the default way.
        if (args.namespace !== NAMESPACE) return undefined;
        if (args.path.startsWith("./") || args.path.startsWith("../")) {
          const found = resolveRelative(files, posix.dirname(args.importer), args.path);
          if (found !== undefined) return { path: found, namespace: NAMESPACE };
          return { errors: [{ text: `Could not resolve "${args.path}": no such file among the function's files` }] };
        }
        return { errors: [{ text: unresolvableBareImport(args.path) }] };
      });
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
        const loader = loaderFor(args.path);
        if (loader === undefined) return { errors: [{ text: `${args.path}: unsupported file type (use .ts, .js or .json)` }] };
        return { contents: files[args.path] ?? "", loader, resolveDir: undefined };
      });
    },
  };
}

function resolveRelative(files: Record<string, string>, dir: string, spec: string): string | undefined {
  const path = posix.normalize(posix.join(dir, spec));
  if (path.startsWith("../")) return undefined;
  const candidates = [
    path,
    path.replace(/\.js$/, ".ts"),
    path.replace(/\.mjs$/, ".mts"),
    `${path}.ts`,
    `${path}.mts`,
    `${path}.js`,
    `${path}.mjs`,
    `${path}.json`,
    `${path}/index.ts`,
    `${path}/index.js`,
  ];
  return candidates.find((candidate) => candidate in files);
}

function unresolvableBareImport(spec: string): string {
  const bare = spec.startsWith("node:") ? spec.slice(5) : spec;
  if (spec.startsWith("node:") || builtins.has(bare) || builtins.has(bare.split("/")[0] ?? "")) {
    return `Could not resolve "${spec}": Node.js built-in modules do not exist inside functions`;
  }
  if (spec.startsWith("/")) return `Could not resolve "${spec}": absolute paths are not allowed`;
  return `Could not resolve "${spec}": packages are not resolved for uploaded source; ${PACKAGE_FIX}`;
}

function loaderFor(path: string): Loader | undefined {
  const ext = posix.extname(path);
  if (ext === ".ts" || ext === ".mts" || ext === ".cts") return "ts";
  if (ext === ".js" || ext === ".mjs" || ext === ".cjs") return "js";
  if (ext === ".json") return "json";
  return undefined;
}

function toDiagnostic(message: Message): BundleDiagnostic {
  const location = message.location;
  if (location === null) return { file: "", line: 0, column: 0, message: message.text };
  const file = location.file.startsWith(`${NAMESPACE}:`) ? location.file.slice(NAMESPACE.length + 1) : location.file;
  return { file, line: location.line, column: location.column + 1, message: message.text };
}
