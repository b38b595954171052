import type { z } from "zod";
import type { FunctionRecord } from "../config/function-record.js";
import type { RecordPosition } from "../dispatcher/stuck-records.js";
import type { deadLetterAccepted, functionStatus, redriveAccepted, replayAccepted, ReplayFrom, scaleHint, stateValue } from "./api-schemas.js";
import type { DeployRequest, DeployResult } from "./deployer.js";
import type { DryRunResponse, InvokeEvent } from "./dry-run.js";
import type { HistorySample, ScalingMark } from "./history.js";
import type { LogBook } from "./log-book.js";
import type { PeekedRecord } from "./newest-records.js";

export type FunctionStatus = z.output<typeof functionStatus>;
export type ReplayAccepted = z.output<typeof replayAccepted>;
export type RedriveAccepted = z.output<typeof redriveAccepted>;
export type ScaleHint = z.output<typeof scaleHint>;
export type DeadLetterAccepted = z.output<typeof deadLetterAccepted>;
export type StateValue = z.output<typeof stateValue>;

/**
 * What the HTTP routes ask of the control plane, and nothing more. The routes validate, call one of
 * these, and shape the answer; `FunctionOperations` implements it on Kafka, the registry and the workers.
 * Methods that take a name expect a deployed function (the routes check first) and throw
 * `EDDY_NOT_FOUND` otherwise.
 */
export interface FunctionService {
  list(): FunctionRecord[];
  get(name: string): FunctionRecord | undefined;
  /** Stored versions, oldest first. */
  versions(name: string): FunctionRecord[];
  isPaused(name: string): boolean;
  deploy(request: DeployRequest): Promise<DeployResult>;
  /** Null when there is no such version. */
  rollback(name: string, version: number): Promise<FunctionRecord | null>;
  remove(name: string, options: { deleteGroup: boolean }): Promise<void>;
  status(name: string): Promise<FunctionStatus>;
  /** The replica count the scaler wants, with the lag and arrival rate behind it (SPEC §7, for KEDA). */
  scale(name: string): Promise<ScaleHint>;
  invoke(name: string, events: InvokeEvent[]): Promise<DryRunResponse>;
  replay(name: string, from: ReplayFrom): Promise<ReplayAccepted>;
  redrive(name: string): Promise<RedriveAccepted>;
  setPaused(name: string, paused: boolean): Promise<void>;
  /** An operator's decision: the failed record at `position` goes to the dead-letter topic so its partition goes on. */
  deadLetter(name: string, position: RecordPosition): Promise<DeadLetterAccepted>;
  /** Sets or removes secrets without a new bundle: a new version (or the same, when nothing changed). */
  changeSecrets(name: string, change: { set?: Record<string, string>; remove?: string[] }): Promise<DeployResult>;
  /** The function's last hour, sampled every HISTORY_INTERVAL_MS (the dashboard's charts). */
  history(name: string): { intervalMs: number; samples: HistorySample[]; decisions: ScalingMark[] };
  /** The newest records of its dead-letter topic, newest first; topic null when it never dead-letters. */
  deadLetters(name: string, limit: number): Promise<{ topic: string | null; records: PeekedRecord[] }>;
  /**
   * The current state of `key` (ctx.state), read from the function's changelog; 404 when the key has
   * none, 409 when the function keeps no state.
   */
  state(name: string, key: string): Promise<StateValue>;
  /** Prometheus text exposition. */
  metrics(): Promise<{ contentType: string; text: string }>;
  logs: LogBook;
}
