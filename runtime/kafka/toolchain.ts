import { execFile } from "node:child_process";
import { javaMissing, mavenMissing } from "./errors.js";

/** Kafka 4.x brokers need Java 17 (3.x ran on 11, but Eddy only ships 4.x). */
export const MIN_JAVA_MAJOR = 17;

/**
 * The major version in `java -version` output (it goes to stderr), or null when none is there.
 *
 * @example
 * parseJavaVersion('openjdk version "17.0.15" 2025-04-15') // 17
 * parseJavaVersion('java version "1.8.0_292"')            // 8
 */
export function parseJavaVersion(output: string): number | null {
  // Lines such as "Picked up JAVA_TOOL_OPTIONS: ..." may come first, so search rather than parse line one.
  const match = /version "([^"]+)"/.exec(output);
  if (!match?.[1]) return null;
  const parts = match[1].split(/[.+_-]/);
  // Before Java 9 the scheme was 1.<major>.
  const major = parts[0] === "1" ? parts[1] : parts[0];
  const n = Number(major);
  return Number.isInteger(n) && n > 0 ? n : null;
}

function run(command: string, args: string[]): Promise<{ ok: boolean; missing: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const missing = (error as NodeJS.ErrnoException | null)?.code === "ENOENT";
      resolve({ ok: error === null, missing, output: `${stdout}\n${stderr}` });
    });
  });
}

/** Fails with EDDY_JAVA_MISSING unless `java` on PATH is 17 or newer; returns the major version. */
export async function checkJava(): Promise<number> {
  const result = await run("java", ["-version"]);
  if (result.missing) throw javaMissing(null);
  const major = parseJavaVersion(result.output);
  if (major === null || major < MIN_JAVA_MAJOR) throw javaMissing(major);
  return major;
}

/** Fails with EDDY_MAVEN_MISSING unless `mvn` runs. `kafkaVersion` only goes into the message. */
export async function checkMaven(kafkaVersion: string): Promise<void> {
  const result = await run("mvn", ["-v"]);
  if (!result.ok) throw mavenMissing(kafkaVersion);
}
