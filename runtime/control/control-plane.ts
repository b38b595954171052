import { FunctionHistory, HISTORY_INTERVAL_MS } from "./history.js";
import { MissingTopicGuard } from "./missing-topics.js";
import { startTracing } from "../telemetry/start-tracing.js";
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { EddyConfig } from "../config/load-config.js";
import { createKafka, type KafkaConnection } from "../kafka/client.js";
import { log } from "../log.js";
import { Scaler } from "../scaler/scaler.js";
import { canOpen, secretKeyMismatch } from "../secrets/sealed-secrets.js";
import { keepInspectorWarm } from "../sandbox/inspect-process.js";
import { stopWarm } from "../sandbox/child-once.js";
import { loadSecretKey } from "../secrets/secret-key.js";
import { WorkerSupervisor } from "../worker/supervisor.js";
import { createApp } from "./app.js";
import { Deployer } from "./deployer.js";
import { FunctionOperations } from "./function-operations.js";
import { LogBook } from "./log-book.js";
import { Redrives } from "./redrive.js";
import { FunctionRegistry, type FunctionEntry } from "./registry.js";
import { TokenStore } from "./token-store.js";

export interface ControlPlane {
  url: string;
  deployer: Deployer;
  registry: FunctionRegistry;
  supervisor: WorkerSupervisor;
  scaler: Scaler;
  operations: FunctionOperations;
  close(): Promise<void>;
}

/**
 * Brings up the control plane: reads the registry topic, starts a worker per deployed function (unless
 * paused), follows the registry for changes, and serves the HTTP API.
 */
export async function startControlPlane(config: EddyConfig, kafkaConnection: KafkaConnection, token: string): Promise<ControlPlane> {
  const tracing = await startTracing(config.tracing, { "eddy.process": "control-plane" });
  const kafka = createKafka(kafkaConnection, "eddy-control");
  const admin = kafka.admin();
  await admin.connect();
  // Read side by side: each joins its own private reader group, and the API answers only once both are read to their end.
  const [registry, tokens] = await Promise.all([
    FunctionRegistry.open(kafka, `${config.topicPrefix}functions`),
    TokenStore.open(kafka, `${config.topicPrefix}tokens`),
  ]);
  const secretKey = await loadSecretKey(config.secretKey, config.dataDir);
  const logs = new LogBook();
  const history = new FunctionHistory();
  const supervisor = new WorkerSupervisor({
    kafka: kafkaConnection,
    topicPrefix: config.topicPrefix,
    logLevel: config.logLevel,
    secretKey,
    // In Kubernetes the cluster runs the workers (StatefulSets scaled by KEDA): this process forks none.
    external: config.workers === "external",
    workerCpuProfileDir: config.workerCpuProfileDir,
    tracing: config.tracing,
    onFunctionLog: (name, { traceId, spanId, ...line }) => logs.append(name, { ...line, source: "function", ...(traceId && spanId ? { traceId, spanId } : {}) }),
    onWorkerOutput: (name, line) => logs.appendWorkerOutput(name, line),
  });
  const deployer = new Deployer(registry, kafka, admin, config.topicPrefix, secretKey, () => supervisor.prewarm());
  keepInspectorWarm();
  const redrives = new Redrives({ admin, kafka: kafkaConnection, topicPrefix: config.topicPrefix, logLevel: config.logLevel, logs, secretKey, tracing: config.tracing });
  const missingTopics = new MissingTopicGuard({ admin, kafka, supervisor, topicPrefix: config.topicPrefix, logs, record: (name) => registry.get(name) });
  const scaler = new Scaler({
    admin,
    supervisor,
    topicPrefix: config.topicPrefix,
    record: (name) => registry.get(name),
    onMissingTopics: (name, topics) => missingTopics.onMissing(name, topics),
    onChange: (name, change) => {
      logs.appendEddy(name, "info", `scaled ${change.from} → ${change.to}: ${change.reason}`, change.at);
      history.decision(name, change);
    },
  });
  // Functions whose secrets were sealed with another key stay stopped (the others run), until their
  // secrets are put again or Eddy restarts with the right key.
  const unreadable = new Set<string>();
  const operations = new FunctionOperations({
    registry,
    deployer,
    supervisor,
    scaler,
    redrives,
    logs,
    kafka,
    admin,
    topicPrefix: config.topicPrefix,
    secretKey,
    problem: (name) => (unreadable.has(name) ? secretKeyMismatch([name]).message : undefined),
    history,
  });

  const follow = (name: string, entry: FunctionEntry | null | undefined) => {
    const readable = !entry || canOpen(secretKey, entry.record.secrets);
    if (readable) unreadable.delete(name);
    else unreadable.add(name);
    if (entry && readable) scaler.follow(name);
    else scaler.forget(name);
    return entry && readable ? supervisor.apply(entry.record, entry.paused) : supervisor.remove(name);
  };
  registry.onChange((name, entry) => {
    const wasUnreadable = unreadable.has(name);
    void follow(name, entry).catch((error: unknown) => log.error({ err: error, function: name }, "could not apply a registry change"));
    if (unreadable.has(name) && !wasUnreadable) log.error({ function: name }, secretKeyMismatch([name]).message);
  });
  for (const entry of registry.entries()) void follow(entry.record.name, entry).catch(() => {});
  if (unreadable.size > 0) log.error({ functions: [...unreadable] }, secretKeyMismatch([...unreadable]).message);

  // The dashboard's history: every function sampled every 5 s (one round at a time, however slow Kafka answers).
  let sampling: Promise<void> | undefined;
  const sampler = setInterval(() => {
    sampling ??= operations.sampleHistory().finally(() => (sampling = undefined));
  }, HISTORY_INTERVAL_MS);
  sampler.unref();

  const app = createApp({ service: operations, token, tokens, metricsAuth: config.metricsAuth, ready: () => true });
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
    s.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;

  return {
    url,
    deployer,
    registry,
    supervisor,
    scaler,
    operations,
    async close() {
      // Followed log streams never end on their own; closing them lets the server stop.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redrives.stopAll();
      clearInterval(sampler);
      await sampling;
      scaler.stop();
      await supervisor.stopAll();
      await operations.close();
      stopWarm();
      // Together: each waits for its follower's fetch in flight (compacted-topic.ts, FOLLOW_WAIT_MS).
      await Promise.all([registry.close(), tokens.close()]);
      await tracing?.shutdown();
      await admin.disconnect();
    },
  };
}
