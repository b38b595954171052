import { readFileSync } from "node:fs";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Command } from "commander";
import { functionNameSchema } from "../config/function-config.js";
import { EddyError } from "../eddy-error.js";
import { packageRoot } from "../package-root.js";
import { wantsJson } from "./context.js";
import { projectFiles } from "./init-templates.js";

/** What `eddy init` made; `--json` prints it. */
export interface Scaffolded {
  /** The project's folder, absolute. */
  dir: string;
  name: string;
  /** The files written, relative to `dir`, "/" separated. */
  files: string[];
}

const SPEC_HELP = `
The project depends on eddy (package.json "dependencies"). By default, on the eddy running this command:
  file:<its folder>   when it runs from a checkout of Eddy (not from inside a node_modules folder),
                      so the project uses that checkout as it is, built by its npm install;
  ^<its version>      when it was installed from npm.
--sdk <spec> writes any npm spec instead: a version range, file:../eddy, a tarball or git URL.`;

/**
 * A valid function name ([a-z0-9-]{1,63}) made from a folder's name: lowercased, every run of other
 * characters a "-", no "-" at either end. Empty when nothing usable is left.
 *
 * @example
 * functionNameFor("/home/ana/Order Emails") // "order-emails"
 */
export function functionNameFor(dir: string): string {
  return basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
}

/**
 * The `eddy` dependency a new project gets by default: the eddy running now, as `file:<checkout>` when
 * it runs from a checkout (its package root is not inside node_modules), else `^<its version>`.
 *
 * @example
 * defaultEddySpec("/work/eddy")                        // "file:/work/eddy"
 * defaultEddySpec("/usr/lib/node_modules/eddy")        // "^0.1.0"
 */
export function defaultEddySpec(root: string = packageRoot()): string {
  if (!root.split(sep).includes("node_modules")) return `file:${root}`;
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return `^${version}`;
}

/**
 * Writes a function project into `dir`, creating it when missing. A folder with anything in it is
 * refused before a file is written, so a project (or a typo'd path) is never half overwritten.
 *
 * @throws EddyError (userError) `EDDY_CLI_INIT_NOT_EMPTY`, `EDDY_CLI_BAD_NAME`.
 * @example
 * await scaffoldProject("order-emails", { name: "order-emails", eddySpec: "^0.1.0" });
 */
export async function scaffoldProject(dir: string, options: { name: string; eddySpec: string }): Promise<Scaffolded> {
  const absolute = resolve(dir);
  const named = functionNameSchema.safeParse(options.name);
  if (!named.success) {
    throw new EddyError("EDDY_CLI_BAD_NAME", `--name: expected 1 to 63 characters from a-z, 0-9 and -, got '${options.name}'`, { userError: true });
  }
  await refuseNonEmpty(absolute, dir);
  const files = projectFiles({ name: options.name, eddySpec: options.eddySpec });
  await mkdir(absolute, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(absolute, path)), { recursive: true });
    // "wx": even a file that appeared since the check is never overwritten.
    await writeFile(join(absolute, path), text, { flag: "wx" });
  }
  return { dir: absolute, name: options.name, files: Object.keys(files) };
}

async function refuseNonEmpty(absolute: string, given: string): Promise<void> {
  const found = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (found === undefined) return;
  if (!found.isDirectory()) {
    throw new EddyError("EDDY_CLI_INIT_NOT_EMPTY", `${given} is a file, not a folder: pass a new or empty folder to eddy init`, { userError: true });
  }
  const entries = await readdir(absolute);
  if (entries.length > 0) {
    const shown = entries.slice(0, 3).join(", ") + (entries.length > 3 ? ", …" : "");
    throw new EddyError("EDDY_CLI_INIT_NOT_EMPTY", `${given} is not empty (${shown}): pass a new or empty folder to eddy init; nothing was written`, {
      userError: true,
    });
  }
}

/** The folder as a shell word for the printed `cd`: quoted only when it needs to be. */
function shellWord(text: string): string {
  return /^[\w./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `eddy init <dir>`: a function project, with a unit test of it and the scripts to test and deploy it. */
export function registerInitCommand(program: Command): void {
  program
    .command("init <dir>")
    .description("create a function project in a new or empty folder: src/<name>.ts, a node:test unit test of it, package.json, tsconfig.json, README.md")
    .option("--name <name>", "the function's name (default: the folder's name, lowercased, other characters as -)")
    .option("--sdk <spec>", "the npm spec of the eddy dependency (default: this eddy; see below)")
    .addHelpText("after", SPEC_HELP)
    .action(async (dir: string, options: { name?: string; sdk?: string }, command: Command) => {
      const name = options.name ?? functionNameFor(dir);
      if (name === "") {
        throw new EddyError("EDDY_CLI_BAD_NAME", `cannot make a function name from '${basename(resolve(dir))}': pass --name`, { userError: true });
      }
      if (options.sdk?.trim() === "") throw new EddyError("EDDY_CLI_BAD_SDK", "--sdk: expected an npm spec such as ^0.1.0 or file:../eddy, got ''", { userError: true });
      const eddySpec = options.sdk ?? defaultEddySpec();
      const made = await scaffoldProject(dir, { name, eddySpec });
      if (wantsJson(command)) {
        process.stdout.write(`${JSON.stringify(made)}\n`);
        return;
      }
      const cd = resolve(dir) === process.cwd() ? "" : `cd ${shellWord(dir)} && `;
      process.stdout.write(
        [
          `created the function ${name} in ${dir} (eddy ${eddySpec}):`,
          ...made.files.map((file) => `  ${file}`),
          "next:",
          `  ${cd}npm install && npm test`,
          `  npm run deploy        # eddy deploy src/${name}.ts, to the Eddy that \`eddy start\` runs; \`npx eddy dev src/${name}.ts\` redeploys on every save`,
          "",
        ].join("\n"),
      );
    });
}
