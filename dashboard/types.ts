// The history's shapes come from the control plane's own module (plain types, nothing of Node in it).
import type { HistorySample, ScalingMark } from "../runtime/control/history.js";

/**
 * The JSON shapes the dashboard reads, mirroring runtime/control/api-schemas.ts. They are written out
 * here rather than imported so that the page's type-check never pulls zod or Node's types into the DOM build.
 */

export type Scope = "read" | "deploy" | "admin";
export type FunctionState = "running" | "scaled-to-zero" | "paused" | "failing";
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Whoami {
  name: string;
  scope: Scope;
  /** A deploy token's limit: a glob of the function names it may change (`*` any run, `?` one character). */
  pattern: string | null;
}

export interface FunctionSummary {
  name: string;
  version: number;
  handler: "handle" | "handleBatch";
  deployedAt: string;
  config: Record<string, unknown>;
  secrets: string[];
}

export interface RedriveStatus {
  state: "running" | "done" | "failed";
  topic: string;
  total: number;
  done: number;
  succeeded: number;
  deadLettered: number;
  error?: string;
}

export interface FunctionStatus extends FunctionSummary {
  state: FunctionState;
  stateReason?: string;
  problem?: string;
  replicas: { desired: number; ready: number };
  lag: { total: number };
  circuit: "closed" | "half-open" | "open";
  stats: { processed: number; failed: number; retried: number; deadLettered: number; p50Ms: number; p99Ms: number };
  scaler: { mode: "stable" | "panic" };
  redrive?: RedriveStatus;
  /** Failed records their partitions have waited behind (an outage, or poison on a quiet partition). */
  stuck?: StuckRecord[];
  crashes?: { suspects: number; quarantined: number; last: { at: string; replica: number; exit: string; inFlight: number } | null };
  /** Present for a function with `state` in its definition. */
  stateStore?: { keys: number; bytes: number; restoring: number; maxBytesPerReplica: number; topic: string };
}

/** `GET /v1/functions/:name/state/:key`. */
export interface StateValue {
  name: string;
  key: string;
  value: unknown;
  partition: number;
  updatedAt: string;
  fresh: boolean;
}

export interface StuckRecord {
  topic: string;
  partition: number;
  offset: string;
  attempts: number;
  lastError: { name: string; message: string };
  waitingMs: number;
}

export type { HistorySample };
export type ScalingDecision = ScalingMark;

export interface History {
  name: string;
  intervalMs: number;
  samples: HistorySample[];
  decisions: ScalingDecision[];
}

export interface VersionList {
  name: string;
  current: number;
  versions: { version: number; current: boolean; digest: string; deployedAt: string; handler: string; config: Record<string, unknown> }[];
}

export interface DeadLetters {
  name: string;
  topic: string | null;
  records: { partition: number; offset: string; timestamp: string; key: string | null; value: string; headers: Record<string, string> }[];
}

export interface InvokeResult {
  ok: boolean;
  error?: { name: string; message: string; code?: string };
  emitted: { topic: string; key: string | null; value: string | null; encoding?: "base64"; headers: Record<string, string> }[];
  logs: { level: LogLevel; message: string; at: string }[];
  durationMs: number;
}

export interface LogLine {
  at: string;
  level: LogLevel;
  source: "function" | "eddy";
  message: string;
  traceId?: string;
}
