import { fork, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import type { DispatchStats } from "../dispatcher/stats.js";
import type { KafkaConnection } from "../kafka/client.js";
import { log } from "../log.js";
import type { CircuitState, FromWorker, ToWorker } from "./messages.js";

const WORKER_MAIN = fileURLToPath(new URL("./worker-main.js", import.meta.url));
const MAX_RESTART_DELAY_MS = 30_000;

export interface SupervisorOptions {
  kafka: KafkaConnection;
  topicPrefix: string;
  logLevel: string;
  /** A function's own log line (ctx.log, console), as its worker reported it. */
  onFunctionLog?: (name: string, line: { level: "debug" | "info" | "warn" | "error"; message: string; at: string }) => void;
  /** A line of a worker's own log (JSON), after it was passed on to this process' stderr. */
  onWorkerOutput?: (name: string, line: string) => void;
}

export interface ReplicaStatus {
  desired: number;
  ready: number;
  restarts: number;
  stats: DispatchStats | null;
  circuit: CircuitState;
  /** Stopped by an operator (pause), or held stopped while its consumer group is moved. */
  paused: boolean;
}

interface Replica {
  record: FunctionRecord;
  child: ChildProcess;
  ready: boolean;
  stats: DispatchStats | null;
  circuit: CircuitState;
  restarts: number;
  stopping: boolean;
  exited: Promise<void>;
  restartTimer?: NodeJS.Timeout;
}

/**
 * Runs one worker process per deployed function, restarts a worker that dies (with backoff), and replaces
 * it on redeploy. Records of a worker that dies are redelivered by Kafka: it never committed past them.
 */
export class WorkerSupervisor {
  private readonly replicas = new Map<string, Replica>();
  /** What should run: the newest version of each function, and whether an operator paused it. */
  private readonly desired = new Map<string, { record: FunctionRecord; paused: boolean }>();
  /** Functions held stopped for a while (e.g. while their group's offsets move), with how many holders. */
  private readonly holds = new Map<string, number>();
  /** Per function, the reconciliation in progress: changes apply one after another, never interleaved. */
  private readonly reconciling = new Map<string, Promise<void>>();

  constructor(private readonly options: SupervisorOptions) {}

  /** Starts the function's worker, or replaces the running one with this version. */
  async run(record: FunctionRecord): Promise<void> {
    const current = this.replicas.get(record.name);
    if (current && current.record.version === record.version && current.record.digest === record.digest) return;
    if (current) await this.stop(record.name);
    this.spawn(record, 0);
  }

  /** Makes the function's workers match the registry: this version, running unless paused. Resolves once they do. */
  apply(record: FunctionRecord, paused: boolean): Promise<void> {
    this.desired.set(record.name, { record, paused });
    return this.reconcile(record.name);
  }

  /** The function was deleted: its worker drains and stops. */
  remove(name: string): Promise<void> {
    this.desired.delete(name);
    return this.reconcile(name);
  }

  /** Runs `work` with the function's worker stopped (drained, out of its group), then starts it again unless paused. */
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

  private reconcile(name: string): Promise<void> {
    const next = (this.reconciling.get(name) ?? Promise.resolve()).then(async () => {
      const want = this.desired.get(name);
      if (!want || want.paused || this.holds.has(name)) await this.stop(name);
      else await this.run(want.record);
    });
    const settled = next.catch((error: unknown) => log.error({ err: error, function: name }, "could not start or stop a worker"));
    this.reconciling.set(name, settled);
    void settled.then(() => {
      if (this.reconciling.get(name) === settled) this.reconciling.delete(name);
    });
    return next;
  }

  async stop(name: string): Promise<void> {
    const replica = this.replicas.get(name);
    if (!replica) return;
    this.replicas.delete(name);
    replica.stopping = true;
    clearTimeout(replica.restartTimer);
    if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
    this.sendTo(replica.child, { type: "stop" });
    // Draining lasts at most one invocation; past that the worker is stuck and is killed (nothing is lost: it committed nothing past unfinished records).
    const killTimer = setTimeout(() => replica.child.kill("SIGKILL"), replica.record.config.timeoutMs + 10_000);
    await replica.exited;
    clearTimeout(killTimer);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.replicas.keys()].map((name) => this.stop(name)));
  }

  status(name: string): ReplicaStatus {
    const replica = this.replicas.get(name);
    const want = this.desired.get(name);
    const paused = want?.paused === true || this.holds.has(name);
    if (!replica) return { desired: want && !paused ? 1 : 0, ready: 0, restarts: 0, stats: null, circuit: "closed", paused };
    return { desired: 1, ready: replica.ready ? 1 : 0, restarts: replica.restarts, stats: replica.stats, circuit: replica.circuit, paused };
  }

  /** The worker's process id, for operators (and crash tests). */
  pid(name: string): number | undefined {
    return this.replicas.get(name)?.child.pid;
  }

  private spawn(record: FunctionRecord, restarts: number): void {
    // isolated-vm needs Node's startup snapshot off (Node ≥ 20).
    const child = fork(WORKER_MAIN, [], { execArgv: ["--no-node-snapshot"], stdio: ["ignore", "inherit", "pipe", "ipc"] });
    // The worker's log passes through here so that the control plane can keep its warnings and errors per function.
    createInterface({ input: child.stderr! }).on("line", (line) => {
      process.stderr.write(`${line}\n`);
      this.options.onWorkerOutput?.(record.name, line);
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const replica: Replica = { record, child, ready: false, stats: null, circuit: "closed", restarts, stopping: false, exited };
    this.replicas.set(record.name, replica);

    child.on("message", (message: FromWorker) => this.onMessage(replica, message));
    child.once("exit", (code, signal) => {
      replica.ready = false;
      if (replica.stopping || this.replicas.get(record.name) !== replica) return;
      const delay = Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** Math.min(restarts, 6));
      log.error({ function: record.name, code, signal, restartInMs: delay }, "worker exited; restarting it");
      replica.restartTimer = setTimeout(() => {
        if (this.replicas.get(record.name) === replica) this.spawn(record, restarts + 1);
      }, delay);
    });
    this.sendTo(child, {
      type: "start",
      record,
      kafka: this.options.kafka,
      groupId: consumerGroupId(this.options.topicPrefix, record.name),
      topicPrefix: this.options.topicPrefix,
      logLevel: this.options.logLevel,
    });
  }

  private onMessage(replica: Replica, message: FromWorker): void {
    const fn = replica.record.name;
    switch (message.type) {
      case "ready":
        replica.ready = true;
        break;
      case "stats":
        replica.stats = message.stats;
        replica.circuit = message.circuit;
        break;
      case "function-log":
        log[message.level]({ function: fn, source: "function" }, message.message);
        this.options.onFunctionLog?.(fn, { level: message.level, message: message.message, at: message.at });
        break;
      case "fatal":
        log.error({ function: fn }, `worker failed: ${message.message}`);
        break;
    }
  }

  private sendTo(child: ChildProcess, message: ToWorker): void {
    if (child.connected) child.send(message);
  }
}
