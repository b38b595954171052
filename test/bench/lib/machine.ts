import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { kafkaPomPath, parsePomKafkaVersion } from "../../../runtime/kafka/kafka-jars.js";
import { ROOT } from "./eddy-instance.js";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  kafka: string;
  kafkajs: string;
  isolatedVm: string;
  /** The commit the bench ran on, and the tracked files that differed from it (other engineers' work in progress). */
  commit: string;
  uncommitted: string[];
  loadAverageAtStart: number[];
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Read-only git queries; the bench never changes the repository's state. */
function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "";
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    kafka: parsePomKafkaVersion(readFileSync(kafkaPomPath(), "utf8")),
    kafkajs: packageVersion("kafkajs"),
    isolatedVm: packageVersion("isolated-vm"),
    commit: git(["rev-parse", "--short", "HEAD"]) || "unknown",
    uncommitted: [...git(["diff", "--name-only", "HEAD"]).split("\n"), ...git(["ls-files", "--others", "--exclude-standard"]).split("\n")]
      .filter((file) => file !== "" && !file.startsWith("test/bench/") && file !== "docs/benchmarks.md"),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
