import type { Command } from "commander";
import type { EddyConfig } from "../config/load-config.js";
import { EddyError, isEddyError } from "../eddy-error.js";
import { log } from "../log.js";
import type { BundleDiagnostic } from "../sandbox/errors.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, progress } from "./context.js";
import { envFromOptions, uploadBundle, type Deployed } from "./deploy.js";
import { FunctionTail } from "./dev-logs.js";
import { produceSampleRecords, readSampleRecords, type SampleRecord } from "./dev-produce.js";
import { BundleWatcher, type BuildResult } from "./dev-watch.js";
import { kafkaConnectionFor } from "./kafka-connection.js";
import { runEddy, type RunningEddy } from "./run-eddy.js";

/** Saves come in bursts (write, then a formatter's write; several files saved at once): build once they settle. */
const DEBOUNCE_MS = 60;
/** How long `--produce` waits for the first replica to join its group before sending anyway (the deploy pinned its offsets). */
const READY_WAIT_MS = 30_000;

interface DevOptions {
  produce?: string;
  rm?: boolean;
  name?: string;
  env?: string[];
}

/**
 * `eddy dev <file>`: a watch loop for writing a function. It deploys the file (bundled as `eddy deploy`
 * bundles), deploys again after each save of it or of anything it imports, and shows the function's log
 * lines and outcomes, until Ctrl-C. With no Eddy answering, it runs one in this process.
 */
export function registerDevCommand(program: Command): void {
  program
    .command("dev <file>")
    .description("deploy a function file, redeploy it on every save (its imports included) and show its logs, until Ctrl-C")
    .option("--produce <file.jsonl>", 'once deployed, send each line ({"key"?, "value", "headers"?}, or any JSON as the value) to its first topic')
    .option("--rm", "remove the function on Ctrl-C (by default it stays deployed)")
    .option("--name <name>", "deploy under this name instead of the one in the code")
    .option("--env <K=V...>", "a variable visible as ctx.env (repeatable)")
    .action(async (file: string, options: DevOptions, command: Command) => {
      const env = options.env ? envFromOptions(options.env) : undefined;
      const samples = options.produce ? await readSampleRecords(options.produce) : undefined;
      let config = configFor(command);
      let ownEddy: RunningEddy | undefined;
      if (!(await eddyAnswers(config))) {
        ownEddy = await startOwnEddy(config);
        config = { ...config, url: ownEddy.controlPlane.url, apiToken: ownEddy.token };
      }
      // A missing or wrong token fails here, once, rather than at every save.
      await callApi(config, "GET", "/v1/functions");
      await new DevSession(file, options, config, env, ownEddy).run(samples);
    });
}

/** True when Eddy answers at the configured URL; a refused connection is false. */
async function eddyAnswers(config: EddyConfig): Promise<boolean> {
  try {
    const response = await fetch(new URL("/healthz", config.url), { signal: AbortSignal.timeout(2_000) });
    if (response.ok) return true;
    throw new EddyError("EDDY_CLI_UNREACHABLE", `${config.url} answers, but not as Eddy (GET /healthz: HTTP ${response.status}): pass --url`, { userError: true });
  } catch (error) {
    if (isEddyError(error)) throw error;
    return false;
  }
}

/** Starts Eddy here as `eddy start` would, when the URL is the one it would listen on (a remote URL that does not answer is an error). */
async function startOwnEddy(config: EddyConfig): Promise<RunningEddy> {
  if (new URL(config.url).origin !== new URL(`http://${config.host}:${config.port}`).origin) {
    throw new EddyError("EDDY_CLI_UNREACHABLE", `cannot reach Eddy at ${config.url}: start it there, or leave out --url/EDDY_URL to let eddy dev run one`, {
      userError: true,
    });
  }
  progress(`No Eddy answers at ${config.url}: starting one in this process (the local Kafka too, unless KAFKA_BROKERS is set); Ctrl-C stops it.`);
  // The loop shows the function's lines and Eddy's about it; Eddy's info lines on stderr would say it all twice.
  const quiet: EddyConfig = { ...config, logLevel: config.logLevel === "info" ? "warn" : config.logLevel };
  log.level = quiet.logLevel;
  const eddy = await runEddy(quiet, {});
  progress(`Eddy is running at ${eddy.controlPlane.url} (dashboard: ${eddy.controlPlane.url}/#token=${encodeURIComponent(eddy.token)})`);
  return eddy;
}

/** One run of the loop: what is deployed, the watcher, the log tail, and the way out. */
class DevSession {
  private readonly startedAt = new Date();
  private watcher: BundleWatcher | undefined;
  private tail: FunctionTail | undefined;
  private deployed: Deployed | undefined;
  private lastBundle: string | undefined;
  private lastFailure: string | undefined;
  private stopping = false;
  private readonly firstDeploy: Promise<Deployed>;
  private firstDeployed!: (deployed: Deployed) => void;

  constructor(
    private readonly file: string,
    private readonly options: DevOptions,
    private readonly config: EddyConfig,
    private readonly env: Record<string, string> | undefined,
    private readonly ownEddy: RunningEddy | undefined,
  ) {
    this.firstDeploy = new Promise((resolve) => (this.firstDeployed = resolve));
  }

  async run(samples: SampleRecord[] | undefined): Promise<void> {
    process.on("SIGINT", () => void this.stop());
    process.on("SIGTERM", () => void this.stop());
    progress(`Watching ${this.file} and its imports; Ctrl-C stops.`);
    this.watcher = await BundleWatcher.start(this.file, { debounceMs: DEBOUNCE_MS, onBuild: (result) => this.onBuild(result) });
    if (samples) void this.firstDeploy.then((deployed) => this.produce(deployed, samples));
  }

  private async onBuild(result: BuildResult): Promise<void> {
    if (this.stopping) return;
    if (!result.ok) return this.showFailure("build failed", result.error);
    const recovered = this.lastFailure !== undefined;
    this.lastFailure = undefined;
    // A save that changes nothing in the bundle (a comment, a type, a touched file) deploys nothing.
    if (result.code === this.lastBundle) {
      if (recovered && this.deployed) process.stdout.write(`built again: the same bundle as ${this.deployed.name} v${this.deployed.version}, nothing to deploy\n`);
      return;
    }
    try {
      // After the first deploy the loop follows that one function, whatever the code renames it to.
      const deployed = await uploadBundle(this.config, result.code, { name: this.options.name ?? this.deployed?.name, env: this.env });
      this.lastBundle = result.code;
      process.stdout.write(`deployed ${deployed.name} v${deployed.version} on ${deployed.config.topics.join(", ")}\n`);
      if (!this.deployed) {
        this.tail = new FunctionTail(this.config, deployed.name, (line) => process.stdout.write(`${line}\n`), this.startedAt);
        this.tail.start();
        this.firstDeployed(deployed);
      }
      this.deployed = deployed;
    } catch (error) {
      this.showFailure("deploy failed", error);
    }
  }

  /** Each problem as `file:line:col: message`; the same problems again (a save that fixed nothing) are not repeated. */
  private showFailure(what: string, error: unknown): void {
    const lines = isEddyError(error) && error.code === "EDDY_BUNDLE_FAILED" ? diagnosticLines(error) : [error instanceof Error ? error.message : String(error)];
    const text = lines.join("\n");
    if (text === this.lastFailure) return;
    this.lastFailure = text;
    const running = this.deployed ? `${this.deployed.name} v${this.deployed.version} keeps running` : "nothing deployed yet";
    process.stderr.write(`${what} (${running}):\n${text}\n`);
  }

  private async produce(deployed: Deployed, samples: SampleRecord[]): Promise<void> {
    const topic = deployed.config.topics[0]!;
    try {
      await this.waitReady(deployed.name);
      const connection = this.ownEddy?.connection ?? (await kafkaConnectionFor(this.config));
      await produceSampleRecords(connection, topic, samples);
      process.stdout.write(`produced ${samples.length} record${samples.length === 1 ? "" : "s"} to ${topic}\n`);
    } catch (error) {
      process.stderr.write(`--produce: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }

  private async waitReady(name: string): Promise<void> {
    const deadline = Date.now() + READY_WAIT_MS;
    while (!this.stopping && Date.now() < deadline) {
      const status = await callApi<{ replicas: { ready: number } }>(this.config, "GET", functionRoute(name)).catch(() => undefined);
      if (status && status.replicas.ready > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Ctrl-C: stop watching; the function stays deployed unless --rm; an Eddy this command started stops too. */
  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    let code = 0;
    await this.watcher?.close();
    this.tail?.stop();
    const name = this.deployed?.name;
    if (name && this.options.rm) {
      try {
        await callApi(this.config, "DELETE", functionRoute(name));
        process.stdout.write(`deleted ${name}\n`);
      } catch (error) {
        process.stderr.write(`eddy: could not remove ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
        code = 1;
      }
    } else if (name) {
      process.stdout.write(`${name} stays deployed; \`eddy rm ${name}\` removes it\n`);
    }
    if (this.ownEddy) {
      progress("Stopping the Eddy that eddy dev started…");
      await this.ownEddy.stop();
    }
    process.exit(code);
  }
}

function diagnosticLines(error: EddyError): string[] {
  const diagnostics = (error.context.diagnostics ?? []) as BundleDiagnostic[];
  if (diagnostics.length === 0) return [error.message];
  return diagnostics.map((d) => (d.file ? `${d.file}:${d.line}:${d.column}: ${d.message}` : d.message));
}
