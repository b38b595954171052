/**
 * A replica: one worker process that runs one function. It owns the function's isolate and is one member
 * of the function's consumer group. The control plane starts it with `fork` and talks to it over IPC;
 * it never runs user code in the control plane's process.
 */
import { Dispatcher } from "../dispatcher/dispatcher.js";
import { StatsRecorder } from "../dispatcher/stats.js";
import { createKafka } from "../kafka/client.js";
import { log } from "../log.js";
import { FunctionSandbox } from "../sandbox/function-sandbox.js";
import type { FromWorker, ToWorker } from "./messages.js";

const STATS_INTERVAL_MS = 1_000;

function send(message: FromWorker): void {
  process.send?.(message);
}

let dispatcher: Dispatcher | undefined;
let sandbox: FunctionSandbox | undefined;
let stopping = false;

async function start(message: Extract<ToWorker, { type: "start" }>): Promise<void> {
  const { record } = message;
  log.level = message.logLevel;
  const stats = new StatsRecorder();
  sandbox = await FunctionSandbox.create({
    code: record.code,
    memoryMb: record.config.memoryMb,
    env: record.config.env,
    function: { name: record.name, version: record.version },
    onLog: (level, text) => send({ type: "function-log", level, message: text, at: new Date().toISOString() }),
  });
  const kafka = createKafka(message.kafka, `eddy-worker-${record.name}`);
  dispatcher = new Dispatcher({ kafka, record, groupId: message.groupId, sandbox, stats });
  await dispatcher.start();
  setInterval(() => send({ type: "stats", stats: stats.snapshot(), circuit: "closed" }), STATS_INTERVAL_MS).unref();
  send({ type: "ready" });
  log.info({ function: record.name, version: record.version }, "worker ready");
}

/** Drains: the batch in flight finishes or is abandoned uncommitted, then the process leaves the group. */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await dispatcher?.stop();
    sandbox?.dispose();
  } finally {
    process.exit(0);
  }
}

process.on("message", (message: ToWorker) => {
  if (message.type === "start") {
    start(message).catch((error: unknown) => {
      log.error({ err: error }, "worker failed to start");
      send({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    });
  } else if (message.type === "stop") {
    void stop();
  }
});
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// The control plane going away (even by kill -9) must not leave orphan replicas consuming.
process.on("disconnect", () => void stop());
