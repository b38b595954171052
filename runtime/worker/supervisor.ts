import { fork, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import type { TracingSettings } from "../config/tracing-config.js";
import type { DispatchStats } from "../dispatcher/stats.js";
import type { KafkaConnection } from "../kafka/client.js";
import { log, writeLogLine } from "../log.js";
import { SpareProcess } from "../sandbox/spare-process.js";
import type { CircuitState, FromWorker, ToWorker } from "./messages.js";
import type { ForcedDeadLetter, RecordPosition, StuckRecord } from "../dispatcher/stuck-records.js";
import type { StoreStatus } from "../state/state-store.js";
import { CrashLedger, isRecordCrash, type CrashStatus } from "./crash-ledger.js";

export type { CrashStatus } from "./crash-ledger.js";
import { crashStep, restartDelayMs } from "./restart-backoff.js";
import { NO_STATS, sumStats, worstCircuit } from "./replica-stats.js";

const WORKER_MAIN = fileURLToPath(new URL("./worker-main.js", import.meta.url));
const STANDBY_MAIN = fileURLToPath(new URL("./standby-main.js", import.meta.url));
/** After the standby worker is taken, the next is forked this much later: its boot (~0.5 s of a core) must not slow the start of the replica that took it. */
const STANDBY_REFILL_MS = 1_000;
/** After a standby exited by itself (nothing should make it), the next waits longer: no fork loop. */
const STANDBY_REFILL_AFTER_EXIT_MS = 10_000;
/** How long a worker has to answer an operator's dead-letter request before it counts as not holding the record. */
const DEAD_LETTER_ANSWER_MS = 5_000;

export interface SupervisorOptions {
  kafka: KafkaConnection;
  topicPrefix: string;
  logLevel: string;
  /**
   * Run exactly this one replica index of each function, whatever `scale` asks (`eddy worker --replica`:
   * in Kubernetes a pod is one replica and the cluster decides how many there are).
   */
  replicaIndex?: number;
  /**
   * Fork no worker at all (EDDY_WORKERS=external: Kubernetes runs each function's replicas as a
   * StatefulSet of `eddy worker` pods, scaled by KEDA). The supervisor still keeps what should run (the
   * count the scaler wants, pause, holds), which the scale route answers from.
   */
  external?: boolean;
  /** Opens the functions' secrets: sent to each worker over IPC, never on its command line or environment. */
  secretKey: Buffer;
  /** EddyConfig.tracing, handed to every worker. */
  tracing?: TracingSettings | null;
  /** EDDY_WORKER_CPU_PROF: every worker writes a CPU profile into this folder when it exits. */
  workerCpuProfileDir?: string | null;
  /** A function's own log line (ctx.log, console), as its worker reported it. */
  onFunctionLog?: (name: string, line: { level: "debug" | "info" | "warn" | "error"; message: string; at: string; traceId?: string; spanId?: string }) => void;
  /** A line of a worker's own log (JSON), after it was passed on to this process' stderr. */
  onWorkerOutput?: (name: string, line: string) => void;
}

export interface ReplicaStatus {
  desired: number;
  ready: number;
  /** Replicas told to stop that have not exited yet (draining their in-flight records). */
  draining: number;
  restarts: number;
  /** When a crashed replica will be started again (ms from now), or null when none waits. */
  nextRestartInMs: number | null;
  stats: DispatchStats | null;
  circuit: CircuitState;
  /** Stopped by an operator (pause), or held stopped while its consumer group is moved. */
  paused: boolean;
  /** Worker crashes blamed on records in flight (crash-ledger.ts). */
  crashes: CrashStatus;
  /** Failed records partitions have waited behind for a few open periods (stuck-records.ts), longest first. */
  stuck: StuckRecord[];
  /** The running replicas' state stores summed, for a function with state that reported any. */
  store: StoreStatus | null;
}


interface Replica {
  index: number;
  record: FunctionRecord;
  child: ChildProcess;
  ready: boolean;
  stats: DispatchStats | null;
  circuit: CircuitState;
  stuck: StuckRecord[];
  store?: StoreStatus;
  restarts: number;
  /** Its place in the current crash loop (restart-backoff.ts). */
  crashStep: number;
  /** Date.now() when it reported ready. */
  readyAt?: number;
  /** Date.now() when it will be started again, after it crashed. */
  restartAt?: number;
  /** Its consumer's member id in the group, once joined: evicted by its successor if it crashes. */
  memberId?: string;
  stopping: boolean;
  exited: Promise<void>;
  restartTimer?: NodeJS.Timeout;
}

/** Replicas a function starts with before the scaler has read its lag: KPA's initial scale of 1, or minReplicas. */
export function initialReplicas(record: FunctionRecord): number {
  const { minReplicas, maxReplicas } = record.config.scaling;
  return Math.min(Math.max(1, minReplicas), maxReplicas ?? Number.POSITIVE_INFINITY);
}

/**
 * Runs each deployed function's replicas: worker processes with distinct indices 0…N-1 (a replica's
 * transactional id derives from its index). The count comes from the scaler (`scale`); scaling down
 * drains the highest indices. A replica that dies is restarted with its own index (with backoff); a
 * new version replaces every replica. Records of a worker that dies are redelivered by Kafka: it never
 * committed past them.
 */
export class WorkerSupervisor {
  /** Per function, its live replicas by index. */
  private readonly replicas = new Map<string, Map<number, Replica>>();
  /** What should run: the newest version of each function, and whether an operator paused it. */
  private readonly desired = new Map<string, { record: FunctionRecord; paused: boolean }>();
  /** Per function, how many replicas should run while it is not paused or held. */
  private readonly counts = new Map<string, number>();
  /** Functions held stopped for a while (e.g. while their group's offsets move), with how many holders. */
  private readonly holds = new Map<string, number>();
  /** Per function, the reconciliation in progress: changes apply one after another, never interleaved. */
  private readonly reconciling = new Map<string, Promise<void>>();
  /** Per function, what its stopped replicas had counted. */
  private readonly retiredStats = new Map<string, DispatchStats>();
  /** Per function, how many stopped replicas are still draining: "scaled to zero" means none is left. */
  private readonly draining = new Map<string, number>();
  /** Per function, the records in flight in its workers and those blamed for crashes. */
  private readonly ledgers = new Map<string, CrashLedger>();
  /** Answers awaited from workers to `deadLetter`, by request id. */
  private readonly deadLetterAnswers = new Map<number, (result: ForcedDeadLetter) => void>();
  private nextRequestId = 1;
  /**
   * The standby worker: a worker process booted ahead of need (Node without its snapshot and the
   * worker's modules, ~0.5 s), which the next replica to start takes, whether from a deploy, a scale
   * from zero or a crash restart; it becomes that replica on its "start" message. One idle process,
   * ~25 MB of its own. None with external workers or a fixed replica.
   */
  private readonly standby: SpareProcess | undefined;

  constructor(private readonly options: SupervisorOptions) {
    if (options.replicaIndex === undefined && !options.external) {
      this.standby = new SpareProcess(() => forkWorker(STANDBY_MAIN, options.workerCpuProfileDir), { refillAfterExitMs: STANDBY_REFILL_AFTER_EXIT_MS });
      this.standby.fill();
    }
  }

  /** Makes the function's workers match the registry: this version, running unless paused. Resolves once they do. */
  apply(record: FunctionRecord, paused: boolean): Promise<void> {
    this.desired.set(record.name, { record, paused });
    if (!this.counts.has(record.name)) this.counts.set(record.name, initialReplicas(record));
    return this.reconcile(record.name);
  }

  /** Runs `count` replicas of the function (when it is not paused or held). Resolves once they run or have drained. */
  scale(name: string, count: number): Promise<void> {
    if (!this.desired.has(name)) return Promise.resolve();
    this.counts.set(name, count);
    return this.reconcile(name);
  }

  /** The function was deleted: its workers drain and stop. */
  remove(name: string): Promise<void> {
    this.desired.delete(name);
    this.counts.delete(name);
    this.retiredStats.delete(name);
    this.ledgers.delete(name);
    return this.reconcile(name);
  }

  /** Runs `work` with the function's workers stopped (drained, out of its group), then starts them again unless paused. */
  async hold<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.holds.set(name, (this.holds.get(name) ?? 0) + 1);
    try {
      await this.reconcile(name);
      return await work();
    } finally {
      const left = (this.holds.get(name) ?? 1) - 1;
      if (left > 0) this.holds.set(name, left);
      else this.holds.delete(name);
      await this.reconcile(name);
    }
  }

  /** True while the function may run (deployed, not paused, not held): the scaler decides only for these. */
  isActive(name: string): boolean {
    const want = this.desired.get(name);
    return want !== undefined && !want.paused && !this.holds.has(name);
  }

  private reconcile(name: string): Promise<void> {
    const next = (this.reconciling.get(name) ?? Promise.resolve()).then(() => this.converge(name));
    const settled = next.catch((error: unknown) => log.error({ err: error, function: name }, "could not start or stop a worker"));
    this.reconciling.set(name, settled);
    void settled.then(() => {
      if (this.reconciling.get(name) === settled) this.reconciling.delete(name);
    });
    return next;
  }

  /** One step towards what is wanted: drain what must go, then start what is missing. */
  private async converge(name: string): Promise<void> {
    if (this.options.external) return; // the cluster starts and stops them
    const running = this.replicas.get(name) ?? new Map<number, Replica>();
    const want = this.desired.get(name);
    if (!want || !this.isActive(name)) return void (await this.stopReplicas(name, [...running.keys()]));
    // A new version replaces every replica: two versions never consume side by side.
    const stale = [...running.values()].filter((r) => r.record.version !== want.record.version || r.record.digest !== want.record.digest);
    if (stale.length > 0) await this.stopReplicas(name, [...running.keys()]);
    const indices = this.wantedIndices(name);
    await this.stopReplicas(name, [...(this.replicas.get(name)?.keys() ?? [])].filter((i) => !indices.includes(i)));
    for (const index of indices) {
      if (!this.replicas.get(name)?.has(index)) this.spawn(want.record, index, 0);
    }
  }

  private wantedIndices(name: string): number[] {
    if (this.options.replicaIndex !== undefined) return [this.options.replicaIndex];
    return Array.from({ length: this.counts.get(name) ?? 0 }, (_, i) => i);
  }

  /** Drains the given replicas of the function, all at once, and resolves when they have exited. */
  private async stopReplicas(name: string, indices: number[]): Promise<void> {
    await Promise.all(indices.map((index) => this.stopReplica(name, index)));
  }

  private async stopReplica(name: string, index: number): Promise<void> {
    const replicas = this.replicas.get(name);
    const replica = replicas?.get(index);
    if (!replicas || !replica) return;
    replicas.delete(index);
    if (replicas.size === 0) this.replicas.delete(name);
    replica.stopping = true;
    clearTimeout(replica.restartTimer);
    if (replica.child.exitCode === null && replica.child.signalCode === null) {
      this.sendTo(replica.child, { type: "stop" });
      // Draining lasts at most one invocation; past that the worker is stuck and is killed (nothing is lost: it committed nothing past unfinished records).
      const killTimer = setTimeout(() => replica.child.kill("SIGKILL"), replica.record.config.timeoutMs + 10_000);
      this.draining.set(name, (this.draining.get(name) ?? 0) + 1);
      await replica.exited;
      const left = (this.draining.get(name) ?? 1) - 1;
      if (left > 0) this.draining.set(name, left);
      else this.draining.delete(name);
      clearTimeout(killTimer);
    }
    this.retire(replica);
  }

  /** Keeps a replica's last counts in the function's totals once it is gone. */
  private retire(replica: Replica): void {
    if (!replica.stats || !this.desired.has(replica.record.name)) return;
    this.retiredStats.set(replica.record.name, sumStats(this.retiredStats.get(replica.record.name) ?? NO_STATS, [replica.stats]));
    replica.stats = null;
  }

  /** A deploy begins: the standby worker is forked now if the last one was taken and its successor is not there yet. */
  prewarm(): void {
    this.standby?.fill();
  }

  async stopAll(): Promise<void> {
    this.standby?.stop();
    await Promise.all([...this.replicas.keys()].map((name) => this.stopReplicas(name, [...(this.replicas.get(name)?.keys() ?? [])])));
  }

  status(name: string): ReplicaStatus {
    const live = [...(this.replicas.get(name)?.values() ?? [])];
    const paused = this.desired.get(name)?.paused === true || this.holds.has(name);
    const desired = this.isActive(name) ? this.wantedIndices(name).length : 0;
    const reported = live.flatMap((r) => (r.stats ? [r.stats] : []));
    const retired = this.retiredStats.get(name);
    return {
      desired,
      ready: live.filter((r) => r.ready).length,
      draining: this.draining.get(name) ?? 0,
      restarts: live.reduce((sum, r) => sum + r.restarts, 0),
      nextRestartInMs: nextRestart(live),
      stats: reported.length > 0 || retired ? sumStats(retired ?? NO_STATS, reported) : null,
      circuit: worstCircuit(live.map((r) => r.circuit)),
      paused,
      crashes: this.crashStatus(name),
      stuck: live.flatMap((r) => r.stuck).sort((a, b) => b.waitingMs - a.waitingMs),
      store: sumStores(live.flatMap((r) => (r.store ? [r.store] : []))),
    };
  }

  /**
   * An operator's `eddy dead-letter`: asks every running replica of the function for the failed
   * record at `position`; "queued" when one will write it to the dead-letter topic next, "after-attempt"
   * when one is invoking it and will if that attempt fails.
   */
  async deadLetter(name: string, position: RecordPosition): Promise<ForcedDeadLetter> {
    const live = [...(this.replicas.get(name)?.values() ?? [])].filter((r) => r.ready && r.child.connected);
    const answers = await Promise.all(
      live.map(
        (replica) =>
          new Promise<ForcedDeadLetter>((resolve) => {
            const requestId = this.nextRequestId++;
            const timer = setTimeout(() => settle("absent"), DEAD_LETTER_ANSWER_MS);
            const settle = (result: ForcedDeadLetter) => {
              clearTimeout(timer);
              this.deadLetterAnswers.delete(requestId);
              resolve(result);
            };
            this.deadLetterAnswers.set(requestId, settle);
            this.sendTo(replica.child, { type: "dead-letter", requestId, position });
          }),
      ),
    );
    return answers.includes("queued") ? "queued" : answers.includes("after-attempt") ? "after-attempt" : "absent";
  }

  private crashStatus(name: string): CrashStatus {
    return this.ledgers.get(name)?.status() ?? { suspects: 0, quarantined: 0, last: null };
  }

  private ledger(name: string): CrashLedger {
    let ledger = this.ledgers.get(name);
    if (ledger === undefined) {
      ledger = new CrashLedger();
      this.ledgers.set(name, ledger);
    }
    return ledger;
  }

  /** The worker processes' ids by replica index, for operators (and crash tests). */
  pids(name: string): Map<number, number> {
    const pids = new Map<number, number>();
    for (const [index, replica] of this.replicas.get(name) ?? []) if (replica.child.pid !== undefined) pids.set(index, replica.child.pid);
    return pids;
  }

  private spawn(record: FunctionRecord, index: number, restarts: number, step = 0, evictMembers: string[] = []): void {
    const child = this.standby?.take() ?? forkWorker(WORKER_MAIN, this.options.workerCpuProfileDir);
    this.standby?.refillIn(STANDBY_REFILL_MS);
    // The worker's log passes through here so that the control plane can keep its warnings and errors per function.
    createInterface({ input: child.stderr! }).on("line", (line) => {
      writeLogLine(line);
      this.options.onWorkerOutput?.(record.name, line);
    });
    // "close" comes after the IPC channel has delivered everything, the final stats included.
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const replica: Replica = { index, record, child, ready: false, stats: null, circuit: "closed", stuck: [], restarts, crashStep: step, stopping: false, exited };
    const replicas = this.replicas.get(record.name) ?? new Map<number, Replica>();
    replicas.set(index, replica);
    this.replicas.set(record.name, replicas);

    child.on("message", (message: FromWorker) => this.onMessage(replica, message));
    // "close", not "exit": the notices of the invocations in flight (IPC) have all arrived by then.
    child.once("close", (code, signal) => {
      replica.ready = false;
      if (replica.stopping || this.replicas.get(record.name)?.get(index) !== replica) {
        this.ledger(record.name).forget(index);
        return;
      }
      this.retire(replica);
      const bisecting = this.blame(replica, code, signal);
      const current = crashStep(replica.crashStep, replica.readyAt === undefined ? undefined : Date.now() - replica.readyAt);
      // A crash that narrowed the blame is progress: the next try (a smaller invocation) starts soon, without climbing the backoff.
      const delay = restartDelayMs(bisecting ? 0 : current);
      const next = bisecting ? current : current + 1;
      replica.restartAt = Date.now() + delay;
      log.error({ function: record.name, replica: index, code, signal, restartInMs: delay }, "worker exited; restarting it");
      const evict = replica.memberId === undefined ? [] : [replica.memberId];
      replica.restartTimer = setTimeout(() => {
        if (this.replicas.get(record.name)?.get(index) === replica) this.spawn(record, index, restarts + 1, next, evict);
      }, delay);
    });
    this.sendTo(child, {
      type: "start",
      record,
      kafka: this.options.kafka,
      groupId: consumerGroupId(this.options.topicPrefix, record.name),
      topicPrefix: this.options.topicPrefix,
      logLevel: this.options.logLevel,
      replica: index,
      secretKey: this.options.secretKey.toString("base64"),
      tracing: this.options.tracing ?? null,
      suspects: this.ledger(record.name).suspects(),
      evictMembers,
    });
  }

  /**
   * After a worker of the function died: a crash of its own (isRecordCrash) makes every record it
   * had in flight a suspect, and the other replicas learn of them. Returns whether the blame is
   * still narrowing (bisecting).
   */
  private blame(replica: Replica, code: number | null, signal: NodeJS.Signals | null): boolean {
    const name = replica.record.name;
    const ledger = this.ledger(name);
    if (!isRecordCrash(code, signal)) {
      ledger.forget(replica.index);
      return false;
    }
    const exit = signal !== null ? `signal ${signal}` : `exit code ${code}`;
    const blame = ledger.crashed(replica.index, exit);
    if (blame.records === 0) return false;
    const suspects = ledger.suspects();
    log.warn({ function: name, replica: replica.index, exit, inFlight: blame.records, suspects: suspects.length }, "a worker crashed with records in flight; they run in smaller invocations until the culprit is found");
    for (const other of this.replicas.get(name)?.values() ?? []) if (other !== replica) this.sendTo(other.child, { type: "suspects", suspects });
    return blame.bisecting;
  }

  private onMessage(replica: Replica, message: FromWorker): void {
    const fn = replica.record.name;
    switch (message.type) {
      case "ready":
        replica.ready = true;
        replica.readyAt = Date.now();
        break;
      case "invocations":
        this.ledger(fn).notice(replica.index, message.started, message.finished);
        break;
      case "joined":
        replica.memberId = message.memberId;
        break;
      case "stats":
        replica.stats = message.stats;
        replica.circuit = message.circuit;
        replica.stuck = message.stuck ?? [];
        replica.store = message.store;
        break;
      case "dead-letter-result":
        this.deadLetterAnswers.get(message.requestId)?.(message.result);
        break;
      case "function-log":
        log[message.level]({ function: fn, source: "function", trace_id: message.traceId, span_id: message.spanId }, message.message);
        this.options.onFunctionLog?.(fn, { level: message.level, message: message.message, at: message.at, traceId: message.traceId, spanId: message.spanId });
        break;
      case "fatal":
        log.error({ function: fn, replica: replica.index }, `worker failed: ${message.message}`);
        break;
    }
  }

  private sendTo(child: ChildProcess, message: ToWorker): void {
    if (child.connected) child.send(message);
  }
}

/** A worker process (worker-main, or standby-main: the same code under another name), which waits for its "start" message. */
function forkWorker(entry: string, cpuProfileDir: string | null | undefined): ChildProcess {
  return fork(entry, [], { execArgv: workerExecArgv(cpuProfileDir ?? undefined), stdio: ["ignore", "inherit", "pipe", "ipc"] });
}

/**
 * Node flags of a worker. `EDDY_WORKER_CPU_PROF=<dir>` profiles every worker (`node --cpu-prof`, written
 * to <dir> when the worker exits): Node refuses --cpu-prof in NODE_OPTIONS, so it cannot come from there.
 */
export function workerExecArgv(cpuProfileDir: string | undefined): string[] {
  // isolated-vm needs Node's startup snapshot off (Node ≥ 20).
  const argv = ["--no-node-snapshot"];
  if (cpuProfileDir) argv.push("--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`);
  return argv;
}

/** The soonest restart among replicas waiting to be started again after a crash, in ms from now. */
function nextRestart(replicas: readonly Replica[]): number | null {
  const waiting = replicas.flatMap((r) => (r.restartAt !== undefined && r.restartTimer !== undefined ? [r.restartAt - Date.now()] : []));
  return waiting.length === 0 ? null : Math.max(0, Math.min(...waiting));
}

function sumStores(stores: StoreStatus[]): StoreStatus | null {
  if (stores.length === 0) return null;
  return stores.reduce((sum, s) => ({ keys: sum.keys + s.keys, bytes: sum.bytes + s.bytes, restoring: sum.restoring + s.restoring }));
}
