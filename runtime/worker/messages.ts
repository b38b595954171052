import type { FunctionRecord } from "../config/function-record.js";
import type { TracingSettings } from "../config/tracing-config.js";
import type { CircuitState } from "../dispatcher/circuit-breaker.js";
import type { CrashSuspect } from "../dispatcher/crash-suspects.js";
import type { ForcedDeadLetter, RecordPosition, StuckRecord } from "../dispatcher/stuck-records.js";
import type { StoreStatus } from "../state/state-store.js";
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
      /** Records in flight at earlier crashes of the function's workers (crash-ledger.ts). */
      suspects?: CrashSuspect[];
      /** Group members of this replica's crashed predecessors: removed from the group before it joins, so the group need not wait out their session. */
      evictMembers?: string[];
    }
  | { type: "stop" }
  /** The function's crash suspects changed (another replica crashed). */
  | { type: "suspects"; suspects: CrashSuspect[] }
  /** An operator's `eddy dead-letter`: answered with "dead-letter-result" and the same id. */
  | { type: "dead-letter"; requestId: number; position: RecordPosition };

/** An invocation about to enter the isolate: its id in this worker and its records' offsets as inclusive ranges. */
export interface InvocationNotice {
  id: number;
  topic: string;
  partition: number;
  ranges: [string, string][];
}

/** Worker → control plane. `stats` is sent every second and at once when the circuit breaker changes state. */
export type FromWorker =
  | { type: "ready" }
  /** Sent before each invocation enters the isolate, so that a crash can be blamed on the records in flight. */
  | { type: "invocations"; started?: InvocationNotice[]; finished?: number[] }
  /** The replica's consumer joined its group as this member. */
  | { type: "joined"; memberId: string }
  | { type: "stats"; stats: DispatchStats; circuit: CircuitState; stuck?: StuckRecord[]; store?: StoreStatus }
  | { type: "dead-letter-result"; requestId: number; result: ForcedDeadLetter }
  | { type: "function-log"; level: "debug" | "info" | "warn" | "error"; message: string; at: string; traceId?: string; spanId?: string }
  | { type: "fatal"; message: string };
