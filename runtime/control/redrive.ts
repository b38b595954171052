import type { TracingSettings } from "../config/tracing-config.js";
import { fork, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Admin } from "kafkajs";
import { deadLetterTopic } from "../config/function-config.js";
import { consumerGroupId, type FunctionRecord } from "../config/function-record.js";
import type { KafkaConnection } from "../kafka/client.js";
import { log, writeLogLine } from "../log.js";
import type { LogLevel } from "../sandbox/function-sandbox.js";
import { httpError } from "./errors.js";
import type { LogBook } from "./log-book.js";

const REDRIVE_CHILD = fileURLToPath(new URL("./redrive-child.js", import.meta.url));

/** What the redrive child is told. */
export interface RedriveRequest {
  record: FunctionRecord;
  kafka: KafkaConnection;
  groupId: string;
  dlt: string;
  /** Per partition of the dead-letter topic, the end captured at the start: records from there on are not redriven. */
  endOffsets: { partition: number; offset: string }[];
  logLevel: string;
  /** The prefix of the runtime's own topics, which ctx.emit must refuse. */
  topicPrefix: string;
  /** Eddy's secret key (base64): the child opens the function's secrets into its ctx.env. */
  secretKey: string;
  /** EddyConfig.tracing: the child traces its invocations and writes when set. */
  tracing?: TracingSettings | null;
}

/** What the redrive child reports. */
export type RedriveReport =
  | { type: "progress" | "done"; done: number; succeeded: number; deadLettered: number }
  | { type: "log"; source: "function" | "eddy"; level: LogLevel; message: string; traceId?: string; spanId?: string }
  | { type: "failed"; message: string };

/** A redrive as `GET /v1/functions/:name` and `POST …/redrive` show it. */
export interface RedriveStatus {
  state: "running" | "done" | "failed";
  topic: string;
  version: number;
  startedAt: string;
  finishedAt?: string;
  /** Records between the redrive group's position and the captured end when it started. */
  total: number;
  done: number;
  succeeded: number;
  deadLettered: number;
  error?: string;
}

/** The consumer group a function's redrives read its dead-letter topic with. */
export function redriveGroupId(topicPrefix: string, name: string): string {
  return `${consumerGroupId(topicPrefix, name)}.redrive`;
}

/**
 * Runs redrives, one at a time per function, each in a child process (user code never runs in the
 * control plane), and keeps the latest one's status per function.
 */
export class Redrives {
  private readonly latest = new Map<string, RedriveStatus>();
  private readonly children = new Map<string, ChildProcess>();

  constructor(
    private readonly options: {
      admin: Admin;
      kafka: KafkaConnection;
      topicPrefix: string;
      logLevel: string;
      logs: LogBook;
      secretKey: Buffer;
      tracing?: TracingSettings | null;
    },
  ) {}

  status(name: string): RedriveStatus | undefined {
    return this.latest.get(name);
  }

  /** Starts a redrive of the function's dead-letter topic through `record` (its current version). */
  async start(record: FunctionRecord): Promise<RedriveStatus> {
    const { admin, topicPrefix } = this.options;
    const name = record.name;
    const dlt = deadLetterTopic(record.config);
    if (dlt === null) throw httpError("EDDY_CONFLICT", `${name} has no dead-letter topic (deadLetter.topic is false): there is nothing to redrive`);
    if (this.latest.get(name)?.state === "running") throw httpError("EDDY_CONFLICT", `a redrive of ${name} is already running`);

    const groupId = redriveGroupId(topicPrefix, name);
    const exists = (await admin.listTopics()).includes(dlt);
    const ends = exists ? await admin.fetchTopicOffsets(dlt) : [];
    const [committed] = exists ? await admin.fetchOffsets({ groupId, topics: [dlt] }) : [];
    const positions = new Map((committed?.partitions ?? []).map((p) => [p.partition, p.offset]));
    let total = 0n;
    const endOffsets: RedriveRequest["endOffsets"] = [];
    for (const end of ends) {
      const at = positions.get(end.partition);
      const from = at === undefined || at === "-1" || BigInt(at) < BigInt(end.low) ? BigInt(end.low) : BigInt(at);
      if (from >= BigInt(end.high)) continue;
      total += BigInt(end.high) - from;
      endOffsets.push({ partition: end.partition, offset: end.high });
    }
    const status: RedriveStatus = {
      state: "running",
      topic: dlt,
      version: record.version,
      startedAt: new Date().toISOString(),
      total: Number(total),
      done: 0,
      succeeded: 0,
      deadLettered: 0,
    };
    this.latest.set(name, status);
    if (endOffsets.length === 0) return this.finish(name, status, "done");
    this.spawn(record, status, {
      record,
      kafka: this.options.kafka,
      groupId,
      dlt,
      endOffsets,
      logLevel: this.options.logLevel,
      topicPrefix,
      secretKey: this.options.secretKey.toString("base64"),
      tracing: this.options.tracing ?? null,
    });
    return { ...status };
  }

  private spawn(record: FunctionRecord, status: RedriveStatus, request: RedriveRequest): void {
    const name = record.name;
    const child = fork(REDRIVE_CHILD, [], { execArgv: ["--no-node-snapshot"], stdio: ["ignore", "inherit", "pipe", "ipc"] });
    this.children.set(name, child);
    createInterface({ input: child.stderr! }).on("line", (line) => {
      writeLogLine(line);
      this.options.logs.appendWorkerOutput(name, line);
    });
    child.on("message", (report: RedriveReport) => {
      if (report.type === "progress" || report.type === "done") {
        Object.assign(status, { done: report.done, succeeded: report.succeeded, deadLettered: report.deadLettered });
        if (report.type === "done") this.finish(name, status, "done");
      } else if (report.type === "log") {
        const { traceId, spanId } = report;
        this.options.logs.append(name, {
          at: new Date().toISOString(),
          level: report.level,
          source: report.source,
          message: report.message,
          ...(traceId && spanId ? { traceId, spanId } : {}),
        });
      } else if (report.type === "failed") {
        status.error = report.message;
      }
    });
    child.once("exit", (code, signal) => {
      if (this.children.get(name) === child) this.children.delete(name);
      if (status.state !== "running") return;
      status.error ??= `the redrive process ended (${signal ?? `exit ${code}`})`;
      this.finish(name, status, "failed");
      log.error({ function: name, error: status.error }, "redrive failed");
    });
    child.send(request);
  }

  private finish(name: string, status: RedriveStatus, state: "done" | "failed"): RedriveStatus {
    status.state = state;
    status.finishedAt = new Date().toISOString();
    log.info({ function: name, ...status }, state === "done" ? "redrive finished" : "redrive stopped");
    return { ...status };
  }

  /** Stops a running redrive (the function was deleted, or Eddy stops); it resumes from its committed position next time. */
  async stop(name: string): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((name) => this.stop(name)));
  }

  forget(name: string): void {
    this.latest.delete(name);
  }
}
