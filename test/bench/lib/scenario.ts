import type { Admin, Kafka } from "kafkajs";
import type { BenchOptions } from "./options.js";
import type { EddyInstance } from "./eddy-instance.js";

/** A goal from an issue (6, 11), checked against a measured figure (never asserted anywhere). */
export interface TargetCheck {
  scenario: string;
  goal: string;
  measured: string;
  /** null when the figure could not be measured in this run. */
  met: boolean | null;
}

/** What a scenario hands to the report: a table it laid out itself, plus the raw figures for the JSON. */
export interface ScenarioReport {
  id: string;
  number: number;
  title: string;
  /** What was run, with the counts and durations of this run. */
  setup: string;
  columns: string[];
  rows: string[][];
  targets: TargetCheck[];
  /** Facts the run observed that a reader needs to read the table (fallbacks, incomplete runs). */
  notes: string[];
  data: Record<string, unknown>;
  durationMs: number;
  /** 1-minute load average before and after: a shared machine shows here when others were busy. */
  loadAverage: { before: number; after: number };
  error?: string;
}

/** What every scenario gets: the run's options, the broker, and a way to start Eddy on it. */
export interface BenchContext {
  options: BenchOptions;
  brokers: string;
  /** The bench's broker process, to count the CPU it spends on each variant. */
  brokerPid: number;
  kafka: Kafka;
  admin: Admin;
  /** Starts `eddy start` on the bench's broker with a fresh data dir and topic prefix; stopped by the runner at the latest. */
  startEddy(label: string, env?: Record<string, string>): Promise<EddyInstance>;
  /** A scratch directory that the runner deletes at the end. */
  workDir: string;
}

export type ScenarioBody = Omit<ScenarioReport, "id" | "number" | "title" | "durationMs" | "loadAverage" | "error">;

export interface Scenario {
  id: string;
  number: number;
  title: string;
  run(context: BenchContext): Promise<ScenarioBody>;
}
