import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { packageRoot } from "../package-root.js";

/** Where `npm run build` puts the dashboard, and where the control plane serves it from. */
export function dashboardDir(): string {
  return join(packageRoot(), "dist", "dashboard");
}

/**
 * Bundles the dashboard (`dashboard/`: index.html, style.css, app.ts and its modules, uPlot) into
 * dist/dashboard/: app.js (one ES module, minified), app.css (uPlot's stylesheet, then ours) and
 * index.html. Nothing is fetched from the internet at run time.
 */
export async function buildDashboard(): Promise<string> {
  const root = packageRoot();
  const source = join(root, "dashboard");
  const out = dashboardDir();
  await mkdir(out, { recursive: true });
  const { build } = await import("esbuild");
  await build({
    entryPoints: [join(source, "app.ts")],
    outfile: join(out, "app.js"),
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: true,
    sourcemap: true,
    logLevel: "silent",
  });
  const [uplotCss, ownCss] = await Promise.all([readFile(join(root, "node_modules", "uplot", "dist", "uPlot.min.css"), "utf8"), readFile(join(source, "style.css"), "utf8")]);
  await writeFile(join(out, "app.css"), `${uplotCss}\n${ownCss}`);
  await copyFile(join(source, "index.html"), join(out, "index.html"));
  return out;
}
