// The runtime API of the `eddy` package: what embedders and tests use. Re-exports only.
export { loadConfig, type EddyConfig, type ConfigFlags } from "./config/load-config.js";
export { parseFunctionConfig, functionConfigSchema, type FunctionConfig } from "./config/function-config.js";
export type { FunctionRecord } from "./config/function-record.js";
export { startControlPlane, type ControlPlane } from "./control/control-plane.js";
export { createApp } from "./control/app.js";
export { startLocalBroker, stopLocalBroker, localBrokerStatus } from "./kafka/local-broker.js";
export { startLocalKafka, stopLocalKafka, localKafkaStatus } from "./kafka/local-kafka.js";
export { EddyError } from "./eddy-error.js";
