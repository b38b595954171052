import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import type { FunctionConfig } from "../config/function-config.js";
import { EddyError } from "../eddy-error.js";
import { toYaml, workerManifests } from "../kubernetes/worker-manifests.js";
import { packageRoot } from "../package-root.js";
import { callApi, functionRoute } from "./api-client.js";
import { configFor } from "./context.js";

/** What `eddy manifests` reads of `GET /v1/functions/:name`. */
interface FunctionStatus {
  name: string;
  config: FunctionConfig;
  lag: { partitions: unknown[] };
}

const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The image the repository's Dockerfile builds, as deploy/kubernetes/ names it: `eddy:<package version>`. */
export function defaultImage(): string {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
  return `eddy:${version}`;
}

export function registerManifestsCommand(program: Command): void {
  program
    .command("manifests <name>")
    .description("print a function's Kubernetes worker StatefulSet and KEDA ScaledObject (YAML, for kubectl apply -f -)")
    .option("--namespace <namespace>", "the namespace of Eddy's control plane and the workers", "eddy")
    .option("--image <image>", "the image the Dockerfile built (default eddy:<version>)")
    .option("--control-plane-url <url>", "where KEDA reaches the control plane (default http://eddy.<namespace>.svc:8080)")
    .action(async (name: string, options: { namespace: string; image?: string; controlPlaneUrl?: string }, command: Command) => {
      if (!NAMESPACE.test(options.namespace)) {
        throw new EddyError("EDDY_CLI_BAD_OPTION", `--namespace: expected a Kubernetes namespace name (lowercase letters, digits and '-', at most 63), got ${options.namespace}`, {
          userError: true,
        });
      }
      if (options.controlPlaneUrl !== undefined && !URL.canParse(options.controlPlaneUrl)) {
        throw new EddyError("EDDY_CLI_BAD_OPTION", `--control-plane-url: expected a URL such as http://eddy.eddy.svc:8080, got ${options.controlPlaneUrl}`, { userError: true });
      }
      const status = await callApi<FunctionStatus>(configFor(command), "GET", functionRoute(name));
      const manifests = workerManifests({
        name: status.name,
        config: status.config,
        partitions: status.lag.partitions.length,
        namespace: options.namespace,
        image: options.image ?? defaultImage(),
        controlPlaneUrl: options.controlPlaneUrl?.replace(/\/+$/, ""),
      });
      process.stdout.write(toYaml(manifests));
    });
}
