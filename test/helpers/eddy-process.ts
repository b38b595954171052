import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const EDDY_MAIN = path.join(ROOT, "dist/runtime/cli/main.js");

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

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
}

/** Runs the real `eddy` binary's entry point with Node's snapshot off, as bin/eddy.js does. */
export function runEddy(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", EDDY_MAIN, ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A running `eddy start` on the shared test broker, with its own port, data dir and token. */
export class EddyProcess {
  /** The instances started and not yet exited: a failed test prints their logs (test/print-logs-on-failure.ts). */
  static readonly running = new Set<EddyProcess>();

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly token: string,
    readonly env: Record<string, string>,
    private output: { stdout: string; stderr: string },
  ) {}

  static async start(env: Record<string, string>, extraArgs: string[] = []): Promise<EddyProcess> {
    const port = await freePort();
    const token = env.EDDY_API_TOKEN ?? "test-token";
    const fullEnv = { EDDY_PORT: String(port), EDDY_API_TOKEN: token, ...env };
    const child = spawn(process.execPath, ["--no-node-snapshot", EDDY_MAIN, "start", ...extraArgs], {
      env: { ...process.env, ...fullEnv },
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = { stdout: "", stderr: "" };
    child.stderr!.on("data", (c: Buffer) => (output.stderr = (output.stderr + c.toString()).slice(-200_000)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`eddy start did not come up in time:\n${output.stderr.slice(-4_000)}`)), 90_000);
      child.stdout!.on("data", (c: Buffer) => {
        output.stdout += c.toString();
        if (output.stdout.includes("Eddy is running at")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`eddy start exited with ${code}:\n${output.stderr.slice(-4_000)}`));
      });
    });
    const eddy = new EddyProcess(child, `http://127.0.0.1:${port}`, token, fullEnv, output);
    EddyProcess.running.add(eddy);
    child.once("exit", () => EddyProcess.running.delete(eddy));
    return eddy;
  }

  get logs(): string {
    return this.output.stderr;
  }

  async api(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** SIGTERM, as an operator or Kubernetes would: workers drain and commit before it exits. */
  async stop(): Promise<number | null> {
    // A process killed by a signal (kill -9 in a fault test) has no exit code, only a signal code.
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once("exit", (code) => resolve(code)));
    this.child.kill("SIGTERM");
    return exited;
  }
}
