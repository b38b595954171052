import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { sleep } from "./progress.js";

/** The repository root, from dist/test/bench/lib/. */
/** One replica, whatever the lag. */
export const ONE_REPLICA = { minReplicas: 1, maxReplicas: 1 };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const EDDY_MAIN = path.join(ROOT, "dist/runtime/cli/main.js");
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 45_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface FunctionStatus {
  state: string;
  replicas: { desired: number; ready: number };
  lag: { total: number };
  stats: { processed: number; failed: number; retried: number; deadLettered: number; p50Ms: number; p99Ms: number };
}

/** A running `eddy start` (the real CLI from dist/) on the bench's broker, with its own port, data dir, token and topic prefix. */
export class EddyInstance {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly token: string,
    readonly topicPrefix: string,
    private readonly output: { stderr: string; markers: string[] },
  ) {}

  static async start(options: { brokers: string; dataDir: string; topicPrefix: string; env?: Record<string, string> }): Promise<EddyInstance> {
    const port = await freePort();
    const token = "bench-token";
    const child = spawn(process.execPath, ["--no-node-snapshot", EDDY_MAIN, "start"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        KAFKA_BROKERS: options.brokers,
        EDDY_PORT: String(port),
        EDDY_HOST: "127.0.0.1",
        EDDY_DATA_DIR: options.dataDir,
        EDDY_API_TOKEN: token,
        EDDY_TOPIC_PREFIX: options.topicPrefix,
        // Per-record logging would be part of what is measured; warnings and errors still show.
        EDDY_LOG_LEVEL: "warn",
        ...options.env,
      },
    });
    const output = { stderr: "", markers: [] as string[] };
    let partial = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      output.stderr = (output.stderr + text).slice(-100_000);
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.includes("eddy-bench-")) continue;
        try {
          const msg = (JSON.parse(line) as { msg?: unknown }).msg;
          if (typeof msg === "string" && msg.startsWith("eddy-bench-")) output.markers.push(msg);
        } catch {
          // Not one of Eddy's JSON log lines.
        }
      }
    });
    let stdout = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`eddy start did not come up in ${START_TIMEOUT_MS} ms:\n${output.stderr.slice(-3_000)}`)), START_TIMEOUT_MS);
      child.stdout!.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("Eddy is running at")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`eddy start exited (${code ?? signal}) before it was up:\n${output.stderr.slice(-3_000)}`));
      });
    });
    return new EddyInstance(child, `http://127.0.0.1:${port}`, token, options.topicPrefix, output);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** What functions logged for the bench: messages that start with "eddy-bench-", in order. */
  get markers(): readonly string[] {
    return this.output.markers;
  }

  /** The last lines Eddy wrote to stderr, for a failure message. */
  logTail(chars = 3_000): string {
    return this.output.stderr.slice(-chars);
  }

  /** A worker that cannot start (or keeps dying) makes waiting for its records pointless: the first such log line. */
  workerFailure(): string | null {
    const line = this.output.stderr.split("\n").find((l) => l.includes("worker failed") || l.includes("isolated-vm reported a catastrophic error"));
    return line === undefined ? null : `Eddy's worker failed: ${line.slice(0, 600)}`;
  }

  groupOf(name: string): string {
    return `${this.topicPrefix}${name}`;
  }

  async api(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed };
  }

  /**
   * Deploys a function from source; throws with Eddy's answer when it is not 200/201. Unless `config`
   * sets `scaling`, the function runs exactly one replica: the scenarios compare one replica with one
   * bare consumer (the scale-out scenario sets its own).
   */
  async deploy(source: string, config: Record<string, unknown> = {}): Promise<{ name: string; version: number; config: Record<string, unknown> }> {
    const answer = await this.api("POST", "/v1/functions", { source, config: { scaling: ONE_REPLICA, ...config } });
    if (answer.status !== 201 && answer.status !== 200) {
      throw new Error(`deploy answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 1_000)}`);
    }
    return answer.body as { name: string; version: number; config: Record<string, unknown> };
  }

  async status(name: string): Promise<FunctionStatus> {
    const answer = await this.api("GET", `/v1/functions/${name}`);
    if (answer.status !== 200) throw new Error(`GET /v1/functions/${name} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`);
    return answer.body as FunctionStatus;
  }

  /** Waits until the function reports a ready replica. */
  async waitReady(name: string, timeoutMs = 60_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until) {
      const status = await this.status(name).catch(() => null);
      if (status && status.replicas.ready >= 1) return;
      await sleep(100);
    }
    throw new Error(`${name} had no ready replica after ${timeoutMs} ms:\n${this.logTail()}`);
  }

  /** SIGTERM, then SIGKILL if it has not drained in time. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
