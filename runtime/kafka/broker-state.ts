import { randomBytes } from "node:crypto";
import { link, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { brokerTimeout } from "./errors.js";
import { isProcessAlive } from "./broker-process.js";

/** Where everything of one local broker lives, all under `<dataDir>/kafka`. */
export interface BrokerPaths {
  dir: string;
  /** broker.json: the running broker's pid and ports, and the cluster id its data was formatted with. */
  stateFile: string;
  propertiesFile: string;
  log4jFile: string;
  /** The broker's stdout and stderr. */
  logFile: string;
  /** Kafka's log.dirs: the topics' data. */
  logDir: string;
  /** Present once the log dir is formatted. */
  metaFile: string;
  lockFile: string;
}

export function brokerPaths(dataDir: string): BrokerPaths {
  // Absolute, because the broker's command line is matched against propertiesFile to recognise it.
  return brokerPathsIn(join(resolve(dataDir), "kafka"));
}

/** A broker's files in `dir` (absolute); `lockFile` is the start lock, `<dir>/start.lock` unless shared. */
export function brokerPathsIn(dir: string, lockFile = join(dir, "start.lock")): BrokerPaths {
  return {
    dir,
    stateFile: join(dir, "broker.json"),
    propertiesFile: join(dir, "server.properties"),
    log4jFile: join(dir, "log4j2.properties"),
    logFile: join(dir, "broker.log"),
    logDir: join(dir, "data"),
    metaFile: join(dir, "data", "meta.properties"),
    lockFile,
  };
}

/** The contents of broker.json. `pid` is null while no broker runs; the rest is kept for the next start. */
export interface BrokerState {
  pid: number | null;
  port: number;
  controllerPort: number;
  /** The bootstrap address clients use, `127.0.0.1:<port>`. */
  brokers: string;
  clusterId: string;
  version: string;
}

export async function readBrokerState(paths: BrokerPaths): Promise<BrokerState | null> {
  let text: string;
  try {
    text = await readFile(paths.stateFile, "utf8");
  } catch {
    return null;
  }
  try {
    const raw = JSON.parse(text) as Partial<BrokerState>;
    if (typeof raw.port !== "number" || typeof raw.controllerPort !== "number") return null;
    return {
      pid: typeof raw.pid === "number" ? raw.pid : null,
      port: raw.port,
      controllerPort: raw.controllerPort,
      brokers: typeof raw.brokers === "string" ? raw.brokers : `127.0.0.1:${raw.port}`,
      clusterId: typeof raw.clusterId === "string" ? raw.clusterId : "",
      version: typeof raw.version === "string" ? raw.version : "",
    };
  } catch {
    // A torn or hand-edited file: starting over costs only the ports, the data dir keeps its own cluster id.
    return null;
  }
}

/** Writes broker.json through a rename, so a reader never sees half a file. */
export async function writeBrokerState(paths: BrokerPaths, state: BrokerState): Promise<void> {
  const tmp = `${paths.stateFile}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, paths.stateFile);
}

/**
 * Runs `fn` while holding `<dataDir>/kafka/start.lock`, so two `eddy` processes starting the same data
 * dir at once do not both spawn a broker. A lock whose holder died is taken over.
 */
export async function withStartLock<T>(paths: BrokerPaths, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // link() is atomic and fails if the lock exists, and the pid is in the file before it appears:
  // a reader never finds an empty lock and takes it for a stale one.
  const mine = `${paths.lockFile}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(mine, String(process.pid));
  try {
    for (;;) {
      try {
        await link(mine, paths.lockFile);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = Number(await readFile(paths.lockFile, "utf8").catch(() => ""));
      if (!Number.isInteger(holder) || holder <= 0 || !isProcessAlive(holder)) {
        await rm(paths.lockFile, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw brokerTimeout(`is being started by process ${holder}, which did not finish`, timeoutMs, paths.logFile);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    await rm(paths.lockFile, { force: true });
  }
}
