import { readFile } from "node:fs/promises";
import path from "node:path";

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that a self-time summary needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeRow {
  /** "name (file:line)", with the file relative to the project or to node_modules. */
  function: string;
  selfMs: number;
  /** Of the profile's samples, idle time included. */
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  top: SelfTimeRow[];
}

/**
 * The functions that spent most time on the CPU themselves (not in what they called), from a
 * `.cpuprofile`: each sample's time delta goes to the node it landed in, and nodes of the same
 * function are added up. "(idle)" is the thread waiting for I/O; "(program)" is V8 and native code
 * (isolated-vm's calls included) without a JavaScript frame; "(garbage collector)" is GC.
 */
export async function summarizeCpuProfile(file: string, root: string, count = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, "utf8")) as CpuProfile;
  const byNode = new Map<number, CpuProfile["nodes"][number]>();
  for (const node of profile.nodes) byNode.set(node.id, node);
  const selfByFunction = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byNode.get(profile.samples[i]!);
    const delta = profile.timeDeltas[i] ?? 0;
    if (node === undefined || delta <= 0) continue;
    totalUs += delta;
    const name = describeFrame(node.callFrame, root);
    selfByFunction.set(name, (selfByFunction.get(name) ?? 0) + delta);
  }
  const idleUs = selfByFunction.get("(idle)") ?? 0;
  const top = [...selfByFunction]
    .filter(([name]) => name !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ function: name, selfMs: us / 1000, percent: totalUs > 0 ? (100 * us) / totalUs : 0 }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, top };
}

function describeFrame(frame: CpuProfile["nodes"][number]["callFrame"], root: string): string {
  const name = frame.functionName || "(anonymous)";
  if (frame.url === "") return name;
  let file = frame.url.startsWith("file://") ? decodeURIComponent(new URL(frame.url).pathname) : frame.url;
  const modules = file.lastIndexOf("node_modules/");
  if (modules >= 0) file = file.slice(modules + "node_modules/".length);
  else if (path.isAbsolute(file)) file = path.relative(root, file);
  return `${name} (${file}:${frame.lineNumber + 1})`;
}
