import type { Admin, Kafka } from "kafkajs";
import { randomUUID } from "node:crypto";
import { deadLetterTopic } from "../config/dead-letter-topic.js";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import { commitAsMember } from "../kafka/topics.js";
import { log } from "../log.js";
import { readGroup } from "../scaler/lag-observer.js";
import type { KafkaProblem, Scaler } from "../scaler/scaler.js";
import { QUARANTINE_CRASHES } from "../dispatcher/crash-suspects.js";
import type { RecordPosition, StuckRecord } from "../dispatcher/stuck-records.js";
import type { CrashStatus, ReplicaStatus, WorkerSupervisor } from "../worker/supervisor.js";
import type { ReplayFrom } from "./api-schemas.js";
import type { DeployRequest, Deployer } from "./deployer.js";
import { dryRun, type InvokeEvent } from "./dry-run.js";
import { httpError } from "./errors.js";
import type { DeadLetterAccepted, FunctionService, FunctionStatus, RedriveAccepted, ReplayAccepted, ScaleHint, StateValue } from "./function-service.js";
import { StateViews } from "../state/state-views.js";
import { stateTopic } from "../state/changelog.js";
import { describeFunction } from "./functions-routes.js";
import { HISTORY_INTERVAL_MS, type FunctionHistory } from "./history.js";
import type { LogBook } from "./log-book.js";
import { newestRecords } from "./newest-records.js";
import { ControlMetrics } from "./metrics.js";
import { redriveGroupId, type Redrives } from "./redrive.js";
import type { FunctionRegistry } from "./registry.js";
import { replayOffsets } from "./replay.js";
import { traced } from "../telemetry/operation-span.js";

export interface FunctionOperationsDeps {
  registry: FunctionRegistry;
  deployer: Deployer;
  supervisor: WorkerSupervisor;
  scaler: Scaler;
  redrives: Redrives;
  logs: LogBook;
  kafka: Kafka;
  admin: Admin;
  topicPrefix: string;
  /** Seals secrets and lets the dry-run child open them; never used to open one here. */
  secretKey: Buffer;
  /** Why a function is stopped though deployed (its secrets cannot be read), if it is. */
  problem: (name: string) => string | undefined;
  /** The last hour of every function, for the dashboard. */
  history: FunctionHistory;
}

const NO_STATS = { processed: 0, failed: 0, retried: 0, deadLettered: 0, p50Ms: 0, p99Ms: 0 };
const NO_SCALER = { mode: "stable" as const, lag: 0, arrivalPerSec: 0, drainPerReplicaPerSec: null, decisions: 0, lastChange: null };

/** The control plane's operations on functions, over the registry, the workers and Kafka (see FunctionService). */
export class FunctionOperations implements FunctionService {
  readonly logs: LogBook;
  // A function whose status cannot be read right now (Kafka unreachable) is left out of that scrape, not the whole scrape.
  private readonly metricsView = new ControlMetrics(async () =>
    (await Promise.allSettled(this.list().map((r) => this.status(r.name)))).flatMap((s) => (s.status === "fulfilled" ? [s.value] : [])),
  );

  readonly #states: StateViews;

  constructor(private readonly deps: FunctionOperationsDeps) {
    this.logs = deps.logs;
    this.#states = new StateViews(deps.kafka, deps.admin);
  }

  async state(name: string, key: string): Promise<StateValue> {
    const record = this.require(name);
    if (record.config.state === undefined) {
      throw httpError("EDDY_CONFLICT", `function '${name}' keeps no state: add \`state: {}\` to its definition to use ctx.state`);
    }
    const found = await this.#states.lookup(name, key);
    if (!found.found) throw httpError("EDDY_NOT_FOUND", `function '${name}' has no state for key ${JSON.stringify(key)}${found.fresh ? "" : " (the changelog was not read to its end within 5 s)"}`);
    return { name, key, value: found.value, partition: found.partition, updatedAt: found.updatedAt, fresh: found.fresh };
  }

  /** Stops what the operations keep open (the state views). */
  async close(): Promise<void> {
    await this.#states.close();
  }

  list() {
    return this.deps.registry.list();
  }

  get(name: string) {
    return this.deps.registry.get(name);
  }

  versions(name: string) {
    return this.deps.registry.versions(name);
  }

  isPaused(name: string): boolean {
    return this.deps.registry.entry(name)?.paused ?? false;
  }

  deploy(request: DeployRequest) {
    return traced("deploy", {}, async (span) => {
      const result = await this.deps.deployer.deploy(request);
      span.setAttributes({ "faas.name": result.record.name, "faas.version": String(result.record.version), "eddy.changed": result.changed });
      return result;
    });
  }

  rollback(name: string, version: number) {
    return traced("rollback", { "faas.name": name, "faas.version": String(version) }, () => this.deps.deployer.rollback(name, version));
  }

  private require(name: string) {
    const record = this.get(name);
    if (!record) throw httpError("EDDY_NOT_FOUND", `no function named '${name}'`);
    return record;
  }

  async remove(name: string, options: { deleteGroup: boolean }): Promise<void> {
    const { registry, supervisor, redrives, admin, topicPrefix } = this.deps;
    await redrives.stop(name);
    await registry.remove(name);
    // The registry's change stops the worker too; waiting here makes the answer mean "stopped".
    await supervisor.remove(name);
    this.logs.forget(name);
    this.deps.history.forget(name);
    await this.#states.forget(name);
    redrives.forget(name);
    if (options.deleteGroup) {
      await deleteGroups(admin, [consumerGroupId(topicPrefix, name), redriveGroupId(topicPrefix, name)]);
      // Its state goes with its offsets: a function deployed again under this name starts from nothing,
      // instead of restoring state that no committed offset matches any more.
      const changelog = stateTopic(name);
      if ((await admin.listTopics()).includes(changelog)) await admin.deleteTopics({ topics: [changelog] });
    }
  }

  async status(name: string): Promise<FunctionStatus> {
    const record = this.require(name);
    const replicas = this.deps.supervisor.status(name);
    const kafka = this.deps.scaler.kafkaProblem(name);
    const lag = await this.lag(name, kafka !== null);
    const problem = this.deps.problem(name) ?? (kafka === null ? undefined : kafkaReason(kafka));
    const failing = problem !== undefined || (replicas.restarts > 0 && replicas.ready === 0) || replicas.circuit === "open";
    // Scaled to zero once the last replica has drained and exited, not when it was told to stop.
    const scaledToZero = replicas.desired === 0 && replicas.draining === 0;
    const state = this.isPaused(name) ? "paused" : failing ? "failing" : scaledToZero ? "scaled-to-zero" : "running";
    const redrive = this.deps.redrives.status(name);
    const stateReason = stateReasonOf(name, state, replicas, record.config, problem);
    return {
      ...describeFunction(record),
      state,
      replicas: { desired: replicas.desired, ready: replicas.ready, restarts: replicas.restarts, nextRestartInMs: replicas.nextRestartInMs },
      lag,
      circuit: replicas.circuit,
      crashes: replicas.crashes,
      stuck: replicas.stuck,
      ...(record.config.state && {
        stateStore: { ...(replicas.store ?? { keys: 0, bytes: 0, restoring: 0 }), maxBytesPerReplica: record.config.state.maxBytes, topic: stateTopic(name) },
      }),
      stats: replicas.stats ?? NO_STATS,
      scaler: this.deps.scaler.status(name) ?? NO_SCALER,
      ...(problem ? { problem } : {}),
      ...(stateReason ? { stateReason } : {}),
      ...(redrive ? { redrive } : {}),
    };
  }

  async scale(name: string): Promise<ScaleHint> {
    this.require(name);
    const status = this.deps.scaler.status(name);
    const { total } = await this.lag(name);
    return { name, desiredReplicas: this.deps.supervisor.isActive(name) ? this.deps.scaler.desired(name) : 0, lag: total, arrivalPerSec: status?.arrivalPerSec ?? 0 };
  }

  /** The group's lag: the scaler's latest reading when it is fresh, else read now. */
  /** With Kafka unreachable, the last reading (or none) rather than a read that would wait out the client's retries. */
  private async lag(name: string, kafkaUnreachable = false): Promise<FunctionStatus["lag"]> {
    const record = this.require(name);
    const { scaler, admin, topicPrefix } = this.deps;
    const reading = scaler.latest(name) ?? (kafkaUnreachable ? scaler.lastReading(name) : await readGroup(admin, consumerGroupId(topicPrefix, name), record.config.topics, record.config.startFrom));
    if (reading === null) return { total: 0, partitions: [] };
    return { total: reading.sample.lag, partitions: reading.partitions.map(({ topic, partition, lag }) => ({ topic, partition, lag })) };
  }

  invoke(name: string, events: InvokeEvent[]) {
    const record = this.require(name);
    return traced("invoke", { "faas.name": name, "faas.version": String(record.version) }, () => dryRun(record, events, this.deps.topicPrefix, this.deps.secretKey));
  }

  /** Stops the worker (it drains and leaves the group), commits the new positions for the group, starts it again. */
  replay(name: string, from: ReplayFrom): Promise<ReplayAccepted> {
    return traced("replay", { "faas.name": name, "eddy.replay.from": JSON.stringify(from) }, () => this.#replay(name, from));
  }

  async #replay(name: string, from: ReplayFrom): Promise<ReplayAccepted> {
    const record = this.require(name);
    const { admin, kafka, supervisor, topicPrefix } = this.deps;
    const { topics } = record.config;
    await replayOffsets(admin, topics, from); // a bad position is refused before the worker is touched
    const offsets = await supervisor.hold(name, async () => {
      const target = await replayOffsets(admin, topics, from);
      if (target.length > 0) await commitAsMember(kafka, consumerGroupId(topicPrefix, name), topics, target);
      return target;
    });
    log.info({ function: name, from, offsets }, "replay: consumer group moved");
    this.logs.appendEddy(name, "info", `replay from ${JSON.stringify(from)}`);
    return { name, from, offsets, paused: this.isPaused(name) };
  }

  redrive(name: string): Promise<RedriveAccepted> {
    return traced("redrive", { "faas.name": name }, async (span) => {
      const record = this.require(name);
      // A redrive runs the records beside the workers, without the state store: their state writes would be lost.
      if (record.config.state !== undefined) {
        throw httpError(
          "EDDY_CONFLICT",
          `function '${name}' keeps state, and a redrive runs its dead letters without it: produce them to its topic again instead (they then run through the workers, in order with their key's state)`,
        );
      }
      const status = await this.deps.redrives.start(record);
      span.setAttributes({ "messaging.destination.name": status.topic, "eddy.redrive.total": status.total });
      this.logs.appendEddy(name, "info", `redrive of ${status.total} records from ${status.topic}`);
      return { name, ...status };
    });
  }

  async setPaused(name: string, paused: boolean): Promise<void> {
    await this.deps.registry.setPaused(name, paused);
    const entry = this.deps.registry.entry(name);
    // The registry's change reaches the supervisor too; waiting here makes "paused" mean "no longer processing".
    if (entry) await this.deps.supervisor.apply(entry.record, entry.paused);
  }

  async deadLetter(name: string, position: RecordPosition): Promise<DeadLetterAccepted> {
    const record = this.require(name);
    const dlt = deadLetterTopic(record.config);
    const where = `${position.topic}/${position.partition}@${position.offset}`;
    if (dlt === null) throw httpError("EDDY_CONFLICT", `function '${name}' has deadLetter: false, so it never dead-letters; deploy it with a dead-letter topic first`);
    if (!record.config.topics.includes(position.topic)) {
      throw httpError("EDDY_BAD_REQUEST", `topic: '${position.topic}' is not one of function '${name}''s topics (${record.config.topics.join(", ")})`);
    }
    const result = await this.deps.supervisor.deadLetter(name, position);
    if (result === "absent") {
      throw httpError("EDDY_NOT_FOUND", `no replica of '${name}' holds ${where} as a failed record waiting for a retry: it has finished, has not failed yet, or is not fetched (see GET /v1/functions/${name}, "stuck")`);
    }
    const afterAttempt = result === "after-attempt";
    const message = afterAttempt
      ? `${where} is being invoked right now: if this attempt fails, it goes to ${dlt} with its last error, by an operator's decision (if it succeeds, it is done)`
      : `${where} goes to ${dlt} with its last error, by an operator's decision`;
    log.warn({ function: name, ...position, deadLetterTopic: dlt }, "an operator dead-lettered a record");
    this.logs.appendEddy(name, "warn", message);
    return { name, ...position, deadLetterTopic: dlt, afterAttempt, message };
  }

  async changeSecrets(name: string, change: { set?: Record<string, string>; remove?: string[] }) {
    const result = await this.deps.deployer.changeSecrets(name, change);
    if (!result) throw httpError("EDDY_NOT_FOUND", `no function named '${name}'`);
    return result;
  }

  history(name: string) {
    return { intervalMs: HISTORY_INTERVAL_MS, ...this.deps.history.of(name) };
  }

  async deadLetters(name: string, limit: number) {
    const record = this.require(name);
    const topic = deadLetterTopic(record.config);
    if (topic === null) return { topic, records: [] };
    const groupId = `${this.deps.topicPrefix}${name}.peek-${randomUUID().slice(0, 8)}`;
    return { topic, records: await newestRecords(this.deps.kafka, this.deps.admin, topic, limit, groupId) };
  }

  /** One sample of every function's status into the history; a function that cannot be read now is skipped. */
  async sampleHistory(): Promise<void> {
    for (const record of this.list()) {
      const status = await this.status(record.name).catch(() => undefined);
      if (status === undefined) continue;
      this.deps.history.record(record.name, {
        atMs: Date.now(),
        lag: status.lag.total,
        arrivalPerSec: status.scaler.arrivalPerSec,
        processed: status.stats.processed,
        failed: status.stats.failed,
        deadLettered: status.stats.deadLettered,
        replicasDesired: status.replicas.desired,
        replicasReady: status.replicas.ready,
        p99Ms: status.stats.p99Ms,
      });
    }
  }

  metrics() {
    return this.metricsView.render();
  }
}

/** Deletes consumer groups, waiting out the moment a just-stopped member takes to leave. Missing groups are fine. */
async function deleteGroups(admin: Admin, groupIds: string[]): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.deleteGroups(groupIds);
      return;
    } catch (error) {
      const failed = (error as { groups?: { groupId: string; errorCode: number; error?: { type?: string } }[] }).groups ?? [];
      const blocking = failed.filter((g) => g.error?.type !== "GROUP_ID_NOT_FOUND" && g.errorCode !== 0);
      if (failed.length > 0 && blocking.length === 0) return;
      if (attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Why a function whose worker crashed with records in flight runs carefully (crash-ledger.ts). */
function crashReason(crashes: CrashStatus): string {
  const last = crashes.last === null ? "" : ` (last: replica ${crashes.last.replica}, ${crashes.last.exit}, ${crashes.last.inFlight} records in flight)`;
  const quarantined = crashes.quarantined > 0 ? `; ${crashes.quarantined} crashed it alone ${QUARANTINE_CRASHES} times and go to the dead-letter topic as EDDY_WORKER_CRASHED` : "";
  return `a worker crashed with records in flight${last}: ${crashes.suspects} suspects run in ever smaller invocations, one at a time, until the culprit is found${quarantined}`;
}

/** Why a partition waits behind a failed record, and how an operator moves it on. */
function stuckReason(name: string, stuck: StuckRecord): string {
  const where = `${stuck.topic}/${stuck.partition}@${stuck.offset}`;
  return (
    `${stuck.topic}/${stuck.partition} has waited ${Math.round(stuck.waitingMs / 1000)} s behind ${where} (${stuck.attempts} attempts, last ${stuck.lastError.name}: ${stuck.lastError.message}): ` +
    `nothing has succeeded since it first failed, so Eddy treats it as an outage and keeps it rather than dead-lettering it. If it is poison, move it on with \`eddy dead-letter ${name} ${where}\``
  );
}

/** Why the function is in its state (or what holds it back while running), most specific first; undefined when all is well. */
function stateReasonOf(name: string, state: FunctionStatus["state"], replicas: ReplicaStatus, config: FunctionRecord["config"], problem: string | undefined): string | undefined {
  if (state === "paused") return "paused by an operator: nothing is consumed until it is resumed";
  if (problem !== undefined) return problem;
  if (replicas.stuck.length > 0) return stuckReason(name, replicas.stuck[0]!);
  if (state === "failing" && replicas.circuit === "open") {
    return `the circuit breaker is open: ${config.circuitBreaker.consecutiveFailures} invocations in a row failed with no success since; consumption waits and probes again`;
  }
  if (replicas.crashes.suspects > 0) return crashReason(replicas.crashes);
  if (state === "failing") return `the worker keeps exiting before it is ready (${replicas.restarts} restarts): see the logs`;
  if (state === "scaled-to-zero") return `no records for ${Math.round(config.scaling.scaleToZeroAfterMs / 1000)} s: no replica runs until records arrive`;
  return undefined;
}

/** Why a function fails while its consumer group cannot be read from Kafka. */
function kafkaReason(kafka: KafkaProblem & { sinceMs: number }): string {
  if (kafka.kind === "missing-topic") {
    return `${kafka.message} (for ${Math.round(kafka.sinceMs / 1000)} s; deleted while the function ran?): create it again, or redeploy the function with topics that exist; its workers wait and go on by themselves once it is back`;
  }
  return `Kafka cannot be reached (for ${Math.round(kafka.sinceMs / 1000)} s: ${kafka.message}): the workers keep their place, nothing is committed or dead-lettered, and they go on by themselves when the brokers answer again`;
}
