import type { FunctionRecord } from "../config/function-record.js";
import type { TracingSettings } from "../config/tracing-config.js";
import type { CircuitState } from "../dispatcher/circuit-breaker.js";
import type { DispatchStats } from "../dispatcher/stats.js";
import type { KafkaConnection } from "../kafka/client.js";

export type { CircuitState } from "../dispatcher/circuit-breaker.js";

/** Control plane → worker, over the child process' IPC channel. */
export type ToWorker =
  | {
      type: "start";
      record: FunctionRecord;
      kafka: KafkaConnection;
      groupId: string;
      /** EddyConfig.topicPrefix: the function's ctx.emit refuses topics under it (the sandbox's reserved topics). */
      topicPrefix?: string;
      logLevel: string;
      /** The replica's index among the function's replicas (default 0): its transactional id derives from it. */
      replica?: number;
      /** Eddy's secret key (base64), to open the function's secrets into its ctx.env. */
      secretKey?: string;
      /** Tracing settings when tracing is on (the SDK reads the rest of OTEL_* from the inherited environment). */
      tracing?: TracingSettings | null;
    }
  | { type: "stop" };

/** Worker → control plane. `stats` is sent every second and at once when the circuit breaker changes state. */
export type FromWorker =
  | { type: "ready" }
  | { type: "stats"; stats: DispatchStats; circuit: CircuitState }
  | { type: "function-log"; level: "debug" | "info" | "warn" | "error"; message: string; at: string; traceId?: string; spanId?: string }
  | { type: "fatal"; message: string };
