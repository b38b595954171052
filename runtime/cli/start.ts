import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { EddyError } from "../eddy-error.js";
import { parseNodeCount } from "../kafka/local-kafka.js";
import { log } from "../log.js";
import { bundleEntryFile } from "../sandbox/bundler.js";
import { configFor, progress } from "./context.js";
import { runEddy } from "./run-eddy.js";

const FUNCTION_FILE = /\.(ts|mts|js|mjs)$/;

/** The function files of `--deploy`: a file, or every .ts/.js file directly inside a folder. */
async function functionFiles(target: string): Promise<string[]> {
  const info = await stat(target).catch(() => {
    throw new EddyError("EDDY_CLI_NOT_FOUND", `--deploy: no file or folder at ${target}`, { userError: true });
  });
  if (info.isFile()) return [target];
  const entries = await readdir(target);
  return entries.filter((e) => FUNCTION_FILE.test(e) && !e.endsWith(".d.ts") && !e.includes(".test.")).map((e) => path.join(target, e));
}

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("run Eddy: the local Kafka (unless KAFKA_BROKERS is set), the control plane and the workers")
    .option("--port <port>", "HTTP port (EDDY_PORT, default 8080)")
    .option("--host <host>", "HTTP host (EDDY_HOST, default 127.0.0.1)")
    .option("--brokers <n>", "run the local Kafka as 1 broker or a KRaft cluster of 3 nodes (default: as the data dir ran before, else 1)")
    .option("--deploy <path>", "deploy this function file, or every function file in this folder, once started")
    .option("--otel <url>", "export traces with OTLP over HTTP to this endpoint, e.g. http://localhost:4318 (same as OTEL_EXPORTER_OTLP_ENDPOINT)")
    .option("--workers <where>", "local: fork the functions' worker processes (default); external: fork none, Kubernetes runs them as StatefulSets (EDDY_WORKERS)")
    .action(async (options: { deploy?: string; brokers?: string }, command: Command) => {
      const config = configFor(command);
      const nodes = options.brokers === undefined ? undefined : parseNodeCount("--brokers", options.brokers);
      const eddy = await runEddy(config, { nodes });
      const { controlPlane, token } = eddy;

      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, "stopping: draining workers");
        await eddy.stop();
        process.exit(0);
      };
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGTERM", () => void shutdown("SIGTERM"));

      if (options.deploy) {
        for (const file of await functionFiles(options.deploy)) {
          progress(`Deploying ${file}…`);
          try {
            const bundle = await bundleEntryFile(file);
            const { record, changed } = await controlPlane.deployer.deploy({ bundle });
            progress(`  ${record.name} v${record.version}${changed ? "" : " (unchanged)"} on ${record.config.topics.join(", ")}`);
          } catch (error) {
            // A bad example must not take the runtime down: report it and keep serving.
            progress(`  ${file}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      }

      process.stdout.write(`Eddy is running at ${controlPlane.url}\nAPI token: ${token}\nDashboard: ${controlPlane.url}/#token=${encodeURIComponent(token)}\n`);
      if (!config.apiToken) process.stdout.write(`(written to ${path.join(config.dataDir, "token")}; the CLI reads it from there)\n`);
    });
}
