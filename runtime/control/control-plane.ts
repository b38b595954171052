import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { EddyConfig } from "../config/load-config.js";
import { createKafka, type KafkaConnection } from "../kafka/client.js";
import { log } from "../log.js";
import { WorkerSupervisor } from "../worker/supervisor.js";
import { createApp } from "./app.js";
import { Deployer } from "./deployer.js";
import { FunctionRegistry } from "./registry.js";

export interface ControlPlane {
  url: string;
  deployer: Deployer;
  registry: FunctionRegistry;
  supervisor: WorkerSupervisor;
  close(): Promise<void>;
}

/**
 * Brings up the control plane: reads the registry topic, starts a worker per deployed function,
 * follows the registry for changes, and serves the HTTP API.
 */
export async function startControlPlane(config: EddyConfig, kafkaConnection: KafkaConnection, token: string): Promise<ControlPlane> {
  const kafka = createKafka(kafkaConnection, "eddy-control");
  const admin = kafka.admin();
  await admin.connect();
  const registry = await FunctionRegistry.open(kafka, `${config.topicPrefix}functions`);
  const supervisor = new WorkerSupervisor({ kafka: kafkaConnection, topicPrefix: config.topicPrefix, logLevel: config.logLevel });
  const deployer = new Deployer(registry, kafka, admin, config.topicPrefix);

  const follow = (name: string, task: Promise<void>) =>
    task.catch((error: unknown) => log.error({ err: error, function: name }, "could not apply a registry change"));
  registry.onChange((name, record) => void follow(name, record ? supervisor.run(record) : supervisor.stop(name)));
  for (const record of registry.list()) void follow(record.name, supervisor.run(record));

  const app = createApp({ registry, deployer, supervisor, admin, topicPrefix: config.topicPrefix, token, ready: () => true });
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
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await supervisor.stopAll();
      await registry.close();
      await admin.disconnect();
    },
  };
}
