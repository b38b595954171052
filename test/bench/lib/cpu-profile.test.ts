import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { summarizeCpuProfile } from "./cpu-profile.js";

describe("summarizeCpuProfile", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("adds up each function's self time over its nodes, keeps idle apart, and names files relative to the project or node_modules", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "cpu-profile-"));
    dirs.push(dir);
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame("(root)", "") },
        { id: 2, callFrame: frame("(idle)", "") },
        { id: 3, callFrame: frame("pump", "file:///project/dist/runtime/dispatcher/dispatcher.js", 9) },
        { id: 4, callFrame: frame("pump", "file:///project/dist/runtime/dispatcher/dispatcher.js", 9) },
        { id: 5, callFrame: frame("", "file:///project/node_modules/kafkajs/src/consumer/batch.js", 41) },
      ],
      samples: [2, 3, 4, 5, 3, 2],
      timeDeltas: [1000, 2000, 3000, 1000, 2000, 1000],
    };
    const file = path.join(dir, "worker.cpuprofile");
    await writeFile(file, JSON.stringify(profile));

    const summary = await summarizeCpuProfile(file, "/project", 2);
    expect(summary.totalMs).toBe(10);
    expect(summary.idleMs).toBe(2);
    expect(summary.top).toEqual([
      { function: "pump (dist/runtime/dispatcher/dispatcher.js:10)", selfMs: 7, percent: 70 },
      { function: "(anonymous) (kafkajs/src/consumer/batch.js:42)", selfMs: 1, percent: 10 },
    ]);
  });
});
