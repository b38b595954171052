import type { Admin } from "kafkajs";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import { log } from "../log.js";
import { initialReplicas, type WorkerSupervisor } from "../worker/supervisor.js";
import { decide, initialMemory, type DeciderMemory, type ScalerMode, type ScalingPolicy } from "./decider.js";
import { missingTopics, readGroup, type GroupReading } from "./lag-observer.js";
import type { LoadSample } from "./load-sample.js";

/** The last change of a function's replica count (SPEC §7 `scaler.lastChange`). */
export interface ScalingChange {
  at: string;
  from: number;
  to: number;
  reason: string;
}

/** What `GET /v1/functions/:name` shows of the scaler (SPEC §7). */
export interface ScalerStatus {
  mode: ScalerMode;
  lag: number;
  arrivalPerSec: number;
  drainPerReplicaPerSec: number | null;
  /** Changes of the replica count since the control plane started. */
  decisions: number;
  lastChange: ScalingChange | null;
}

export interface ScalerOptions {
  admin: Admin;
  supervisor: WorkerSupervisor;
  topicPrefix: string;
  /** The function as deployed now (its scaling policy may change with a redeploy). */
  record: (name: string) => FunctionRecord | undefined;
  /** A decision that changed the count, for the function's log. */
  onChange?: (name: string, change: ScalingChange) => void;
  /** Topics of the function do not exist (deleted while it ran); told at every poll while they are missing. */
  onMissingTopics?: (name: string, topics: string[]) => void;
}

/** Why a function's group cannot be read: the brokers do not answer, or a topic of the function is gone. */
export interface KafkaProblem {
  kind: "unreachable" | "missing-topic";
  message: string;
}

interface FunctionScaling {
  samples: LoadSample[];
  memory: DeciderMemory;
  reading: GroupReading | null;
  arrivalPerSec: number;
  drainPerReplicaPerSec: number | null;
  decisions: number;
  lastChange: ScalingChange | null;
  timer?: NodeJS.Timeout;
  /** Why the last read failed, and since when reads have failed (a long outage logs once, not every poll). */
  readError?: KafkaProblem & { since: number };
  /** Date.now() when the read in progress began (kafkajs retries a broker that does not answer for a while). */
  readingSince?: number;
}

function policyOf(record: FunctionRecord, partitions: number): ScalingPolicy {
  const s = record.config.scaling;
  return {
    minReplicas: s.minReplicas,
    maxReplicas: s.maxReplicas,
    lagThreshold: s.lagThreshold,
    activationLagThreshold: s.activationLagThreshold,
    scaleToZeroAfterMs: s.scaleToZeroAfterMs,
    stableWindowMs: s.stableWindowMs,
    minChangeIntervalMs: s.minChangeIntervalMs,
    partitions,
  };
}

/**
 * Each function's replicas follow its lag (SPEC §7): every `scaling.pollIntervalMs` the observer reads
 * the group's offsets, the decider (KPA-style, pure) picks a count, and the supervisor runs it. Paused
 * or held functions are observed (their lag shows) but not scaled.
 */
export class Scaler {
  private readonly functions = new Map<string, FunctionScaling>();

  constructor(private readonly options: ScalerOptions) {}

  /** Starts following a function (deploy, or the control plane's start). Idempotent. */
  follow(name: string): void {
    if (this.functions.has(name)) return;
    const record = this.options.record(name);
    const start = record ? initialReplicas(record) : 1;
    const state: FunctionScaling = {
      samples: [],
      memory: initialMemory(start, Date.now()),
      reading: null,
      arrivalPerSec: 0,
      drainPerReplicaPerSec: null,
      decisions: 0,
      lastChange: null,
    };
    this.functions.set(name, state);
    this.schedule(name, state, 0);
  }

  /** Stops following a deleted function. */
  forget(name: string): void {
    clearTimeout(this.functions.get(name)?.timer);
    this.functions.delete(name);
  }

  stop(): void {
    for (const name of [...this.functions.keys()]) this.forget(name);
  }

  status(name: string): ScalerStatus | null {
    const state = this.functions.get(name);
    if (!state) return null;
    return {
      mode: state.memory.mode,
      lag: state.reading?.sample.lag ?? 0,
      arrivalPerSec: round(state.arrivalPerSec),
      drainPerReplicaPerSec: state.drainPerReplicaPerSec === null ? null : round(state.drainPerReplicaPerSec),
      decisions: state.decisions,
      lastChange: state.lastChange,
    };
  }

  /** The latest reading of the function's group, if it is recent (within two polls). */
  latest(name: string): GroupReading | null {
    const state = this.functions.get(name);
    const record = this.options.record(name);
    if (!state?.reading || !record) return null;
    return Date.now() - state.reading.sample.at <= 2 * record.config.scaling.pollIntervalMs + 500 ? state.reading : null;
  }

  /**
   * Why the function's group cannot be read from Kafka (the broker is down or unreachable), or null:
   * the last read failed, or the read in progress has not answered for two polls.
   */
  kafkaProblem(name: string): (KafkaProblem & { sinceMs: number }) | null {
    const state = this.functions.get(name);
    const record = this.options.record(name);
    if (!state || !record) return null;
    const now = Date.now();
    if (state.readError) return { kind: state.readError.kind, message: state.readError.message, sinceMs: now - state.readError.since };
    const stalled = state.readingSince !== undefined && now - state.readingSince > 2 * record.config.scaling.pollIntervalMs + 500;
    if (!stalled) return null;
    return { kind: "unreachable", message: `reading the group's offsets has not answered for ${Math.round((now - state.readingSince!) / 1000)} s`, sinceMs: now - state.readingSince! };
  }

  /** The last reading of the function's group, however old (what status shows while Kafka cannot be read). */
  lastReading(name: string): GroupReading | null {
    return this.functions.get(name)?.reading ?? null;
  }

  /** The replica count the decider wants now (what KEDA's metrics-api scaler reads, SPEC §7). */
  desired(name: string): number {
    return this.functions.get(name)?.memory.desired ?? 0;
  }

  private schedule(name: string, state: FunctionScaling, delayMs: number): void {
    state.timer = setTimeout(() => {
      void this.tick(name, state).finally(() => {
        const record = this.options.record(name);
        if (this.functions.get(name) === state && record) this.schedule(name, state, record.config.scaling.pollIntervalMs);
      });
    }, delayMs);
    state.timer.unref();
  }

  private async tick(name: string, state: FunctionScaling): Promise<void> {
    const record = this.options.record(name);
    if (!record) return;
    const { supervisor, admin, topicPrefix } = this.options;
    let reading: GroupReading;
    state.readingSince = Date.now();
    try {
      reading = await readGroup(admin, consumerGroupId(topicPrefix, name), record.config.topics, record.config.startFrom);
    } catch (error) {
      // A topic deleted under the function reads as an error too: say which, not "unreachable".
      const missing = await missingTopics(admin, record.config.topics).catch(() => []);
      const problem: KafkaProblem =
        missing.length > 0
          ? { kind: "missing-topic", message: missing.map((topic) => `topic '${topic}' does not exist`).join(", ") }
          : { kind: "unreachable", message: error instanceof Error ? error.message : String(error) };
      if (state.readError?.message !== problem.message) {
        log.warn({ err: error, function: name }, `scaler: could not read the group's offsets (${problem.message}); keeping the replica count`);
      }
      state.readError = { ...problem, since: state.readError?.since ?? state.readingSince };
      if (missing.length > 0) this.options.onMissingTopics?.(name, missing);
      return;
    } finally {
      state.readingSince = undefined;
    }
    state.readError = undefined;
    if (this.functions.get(name) !== state) return;
    const replicas = supervisor.status(name);
    state.reading = reading;
    state.samples.push({ ...reading.sample, ready: replicas.ready });
    const policy = policyOf(record, reading.sample.partitions);
    // Keep a stable window of readings (and one more, as the baseline of its first interval).
    const keepFrom = reading.sample.at - policy.stableWindowMs - 2 * record.config.scaling.pollIntervalMs;
    while (state.samples.length > 2 && state.samples[0]!.at < keepFrom) state.samples.shift();

    if (!supervisor.isActive(name)) return;
    // The count the supervisor runs is the decider's starting point (a restart, a pause, a redeploy).
    state.memory.desired = replicas.desired;
    const decision = decide({ policy, samples: state.samples, memory: state.memory, now: reading.sample.at, healthy: replicas.circuit === "closed" });
    state.memory = decision.memory;
    state.arrivalPerSec = decision.load.arrivalPerSec;
    state.drainPerReplicaPerSec = decision.drainPerReplicaPerSec;
    if (!decision.changed) return;
    const change = { at: new Date(reading.sample.at).toISOString(), from: replicas.desired, to: decision.desired, reason: decision.reason };
    state.decisions += 1;
    state.lastChange = change;
    log.info({ function: name, from: change.from, to: change.to, mode: decision.memory.mode, lag: reading.sample.lag }, `scaling ${name} ${change.from} → ${change.to}: ${change.reason}`);
    this.options.onChange?.(name, change);
    void supervisor.scale(name, decision.desired).catch((error: unknown) => log.error({ err: error, function: name }, "scaler: could not change the replica count"));
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
