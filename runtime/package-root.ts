import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/**
 * The directory of Eddy's own package.json, found by walking up from this file: the source lives
 * at runtime/, the compiled file at dist/runtime/, so the depth is not fixed.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  root = dir;
  return dir;
}

/** The SDK source that `eddy/sdk` resolves to inside function bundles (the package ships sdk/*.ts). */
export function sdkEntry(): string {
  return join(packageRoot(), "sdk", "index.ts");
}
