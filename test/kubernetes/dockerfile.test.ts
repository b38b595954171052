import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultImage } from "../../runtime/cli/manifests.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** The Dockerfile's stages, each as its instructions in order (no docker here: read, not built). */
async function stages(): Promise<string[][]> {
  const text = (await readFile(path.join(ROOT, "Dockerfile"), "utf8")).replace(/\\\n/g, " ");
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const result: string[][] = [];
  for (const line of lines) {
    if (line.startsWith("FROM ")) result.push([]);
    result.at(-1)?.push(line);
  }
  return result;
}

/** The sources of a stage's `COPY <src>… <dest>` (not `--from` copies), without a trailing slash. */
const copiedSources = (stage: string[]) =>
  stage.filter((l) => l.startsWith("COPY ") && !l.includes("--from=")).flatMap((l) => l.split(/\s+/).slice(1, -1).map((s) => s.replace(/\/$/, "")));

describe("the Dockerfile that builds the image of deploy/kubernetes", () => {
  it("copies into the build stage everything `npm run build` reads", async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8"));
    const tsconfig = JSON.parse(await readFile(path.join(ROOT, "tsconfig.json"), "utf8"));
    const [build] = await stages();
    const copied = new Set(copiedSources(build!));
    // Every `tsc -p <file>`: the file, and (for a project beside its sources) its folder.
    const projects = [...(pkg.scripts.build as string).matchAll(/tsc -p (\S+)/g)].map((m) => m[1]!);
    expect(projects).toEqual(["tsconfig.json", "dashboard/tsconfig.json"]);
    const needed = ["package.json", "package-lock.json", "tsconfig.json", ...tsconfig.include, "dashboard"];
    for (const source of needed) expect(copied, `COPY ${source}`).toContain(source);
  });

  it("installs without running the package's own prepare (the build) before its sources are there", async () => {
    const [build] = await stages();
    const install = build!.findIndex((l) => /npm (ci|install)\b/.test(l));
    expect(build![install]).toContain("--ignore-scripts");
    expect(build![install]).toContain("npm rebuild");
    const lastSourceCopy = build!.findLastIndex((l) => l.startsWith("COPY "));
    const buildStep = build!.findIndex((l) => l.includes("npm run build"));
    expect(buildStep).toBeGreaterThan(lastSourceCopy);
  });

  it("runs as the non-root user the manifests name, with what `eddy start` and `eddy worker` need at run time", async () => {
    const [, runtime] = await stages();
    expect(runtime).toContain("USER node");
    expect(copiedSources(runtime!)).toEqual(expect.arrayContaining(["package.json", "bin", "sdk"]));
    expect(runtime!.filter((l) => l.includes("--from=build")).join("\n")).toMatch(/node_modules[\s\S]*dist/);
    expect(runtime!.find((l) => l.startsWith("ENTRYPOINT"))).toContain("dist/runtime/cli/main.js");
    // The tag the manifests use is the one the Dockerfile's header tells you to build.
    expect(await readFile(path.join(ROOT, "Dockerfile"), "utf8")).toContain(`docker build -t ${defaultImage()} .`);
  });
});
