import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { packageRoot } from "../package-root.js";
import { kafkaHomeInvalid, kafkaResolveFailed } from "./errors.js";
import { checkMaven } from "./toolchain.js";

export interface KafkaJars {
  /** A `java -cp` value: `<libs>/*`. */
  classpath: string;
  /** The Apache Kafka version those jars are, e.g. "4.3.1". */
  version: string;
}

export interface ResolveKafkaJarsOptions {
  /** An unpacked Apache Kafka (EDDY_KAFKA_HOME, resolved by the caller): its libs/ are used as they are. */
  kafkaHome?: string;
  /** Where resolved jars are kept; `~/.cache/eddy` unless given (tests). */
  cacheRoot?: string;
}

/** Written into the libs folder last, so a folder without it is a download that did not finish. */
const COMPLETE_MARKER = ".eddy-complete";

/** The pom that names the broker's artifacts; its `<kafka.version>` is the one source of truth for the version. */
export function kafkaPomPath(): string {
  return join(packageRoot(), "deploy", "kafka", "pom.xml");
}

export function parsePomKafkaVersion(pom: string): string {
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(pom);
  if (!match?.[1]) throw new Error("deploy/kafka/pom.xml has no <kafka.version> property");
  return match[1];
}

/** The version in a Kafka distribution's libs/, from its `kafka_2.13-<version>.jar`. */
export function versionFromLibs(fileNames: string[]): string | null {
  for (const name of fileNames) {
    const match = /^kafka_2\.1[23]-(\d+\.\d+\.\d+)\.jar$/.exec(name);
    if (match?.[1]) return match[1];
  }
  return null;
}

/**
 * Finds the jars of an Apache Kafka broker: `kafkaHome/libs` when given, else the jars named by
 * deploy/kafka/pom.xml, resolved with Maven into `~/.cache/eddy/kafka-<version>/libs` on first use.
 *
 * @example
 * const { classpath } = await resolveKafkaJars((line) => process.stderr.write(`${line}\n`));
 * spawn("java", ["-cp", classpath, "kafka.Kafka", "server.properties"]);
 */
export async function resolveKafkaJars(
  onProgress: (line: string) => void,
  options: ResolveKafkaJarsOptions = {},
): Promise<KafkaJars> {
  if (options.kafkaHome !== undefined) return jarsFromKafkaHome(options.kafkaHome);

  const pom = await readFile(kafkaPomPath(), "utf8");
  const version = parsePomKafkaVersion(pom);
  // The marker holds the pom's hash, so editing the pom (another dependency, same version) re-resolves.
  const pomHash = createHash("sha256").update(pom).digest("hex");
  const versionDir = join(options.cacheRoot ?? join(homedir(), ".cache", "eddy"), `kafka-${version}`);
  const libs = join(versionDir, "libs");
  const jars = { classpath: join(libs, "*"), version };
  if (await isComplete(libs, pomHash)) return jars;

  await checkMaven(version);
  onProgress(`Resolving Apache Kafka ${version} from Maven Central (first run only)…`);
  await mkdir(versionDir, { recursive: true });
  // Download into a private folder and rename it into place, so a crash or a concurrent run never
  // leaves a half-filled libs/ that looks usable.
  const staging = await mkdtemp(join(versionDir, "libs.tmp-"));
  try {
    const downloaded = await copyDependencies(kafkaPomPath(), staging, version, onProgress);
    await writeFile(join(staging, COMPLETE_MARKER), pomHash);
    await chmod(staging, 0o755); // mkdtemp makes it private; the jars are not secret.
    await rm(libs, { recursive: true, force: true });
    try {
      await rename(staging, libs);
    } catch (error) {
      // Another process finished first; its copy is as good as ours.
      if (!(await isComplete(libs, pomHash))) throw error;
    }
    onProgress(`Apache Kafka ${version} is ready (${downloaded} files downloaded, cached in ${libs})`);
    return jars;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function isComplete(libs: string, pomHash: string): Promise<boolean> {
  try {
    return (await readFile(join(libs, COMPLETE_MARKER), "utf8")) === pomHash;
  } catch {
    return false;
  }
}

async function jarsFromKafkaHome(kafkaHome: string): Promise<KafkaJars> {
  const libs = join(kafkaHome, "libs");
  const isDir = await stat(libs).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw kafkaHomeInvalid(kafkaHome, `${libs} is not a folder`);
  const version = versionFromLibs(await readdir(libs));
  if (version === null) throw kafkaHomeInvalid(kafkaHome, `${libs} holds no kafka_2.13-<version>.jar`);
  return { classpath: join(libs, "*"), version };
}

/** Runs `mvn dependency:copy-dependencies`, reporting downloads as they happen; resolves to how many files it fetched. */
function copyDependencies(
  pomPath: string,
  outputDir: string,
  version: string,
  onProgress: (line: string) => void,
): Promise<number> {
  const args = [
    "-B",
    "-Dstyle.color=never",
    "-f",
    pomPath,
    "dependency:copy-dependencies",
    `-DoutputDirectory=${outputDir}`,
    "-DincludeScope=runtime",
  ];
  return new Promise((resolve, reject) => {
    const mvn = spawn("mvn", args, { stdio: ["ignore", "pipe", "pipe"] });
    let downloaded = 0;
    const errors: string[] = [];
    const tail: string[] = [];
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (line.startsWith("[ERROR]")) errors.push(line.slice("[ERROR]".length).trim());
      if (line.includes("Downloaded from")) {
        downloaded += 1;
        if (downloaded % 10 === 0) onProgress(`  ${downloaded} files downloaded…`);
      }
    };
    createInterface({ input: mvn.stdout }).on("line", onLine);
    createInterface({ input: mvn.stderr }).on("line", onLine);
    mvn.on("error", (error) => reject(kafkaResolveFailed(version, `could not run mvn (${error.message})`)));
    mvn.on("close", (code) => {
      if (code === 0) return resolve(downloaded);
      const detail = errors.find((line) => line !== "") ?? tail.at(-1) ?? `mvn exited with code ${code}`;
      reject(kafkaResolveFailed(version, detail));
    });
  });
}
