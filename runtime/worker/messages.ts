import type { FunctionRecord } from "../config/function-record.js";
import type { DispatchStats } from "../dispatcher/stats.js";
import type { KafkaConnection } from "../kafka/client.js";

/** Control plane → worker, over the child process' IPC channel. */
export type ToWorker =
  | { type: "start"; record: FunctionRecord; kafka: KafkaConnection; groupId: string; logLevel: string }
  | { type: "stop" };

/** The circuit breaker of one replica (SPEC §5). */
export type CircuitState = "closed" | "open" | "half-open";

/** Worker → control plane. */
export type FromWorker =
  | { type: "ready" }
  | { type: "stats"; stats: DispatchStats; circuit: CircuitState }
  | { type: "function-log"; level: "debug" | "info" | "warn" | "error"; message: string; at: string }
  | { type: "fatal"; message: string };
