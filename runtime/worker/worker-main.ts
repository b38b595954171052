/**
 * A replica: one worker process that runs one function. It owns the function's isolate and is one member
 * of the function's consumer group. The control plane starts it with `fork` and talks to it over IPC;
 * it never runs user code in the control plane's process.
 */
import { CrashSuspects } from "../dispatcher/crash-suspects.js";
import { Dispatcher } from "../dispatcher/dispatcher.js";
import { StatsRecorder } from "../dispatcher/stats.js";
import { createKafka } from "../kafka/client.js";
import { log } from "../log.js";
import { DEFAULT_SANDBOX_LIMITS, FunctionSandbox } from "../sandbox/function-sandbox.js";
import { functionEnv } from "../secrets/function-env.js";
import { startTracing, type Tracing } from "../telemetry/start-tracing.js";
import { FlightReporter } from "./flight-reporter.js";
import type { FromWorker, ToWorker } from "./messages.js";

const STATS_INTERVAL_MS = 1_000;
/** Node's start and this module's imports (a standby worker has paid it before it is needed). */
const BOOT_MS = Math.round(performance.now());

function send(message: FromWorker): void {
  // The callback takes the error of a send that fails because the control plane just died (EPIPE comes
  // before "disconnect"): without it Node raises an uncaught 'error' and the worker dies without leaving
  // its group, whose next rebalance then waits out its session. With it, "disconnect" drains and leaves.
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
}

let dispatcher: Dispatcher | undefined;
let stats: StatsRecorder | undefined;
let sandbox: FunctionSandbox | undefined;
let tracing: Tracing | undefined;
let stopping = false;
/** Records the function's workers crashed with (the supervisor's crash ledger); updated when another replica crashes. */
const suspects = new CrashSuspects();

/** Ends the process so that the supervisor restarts it; nothing past an unfinished record was committed. */
function fail(error: unknown, what: string): void {
  log.error({ err: error }, what);
  send({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

async function start(message: Extract<ToWorker, { type: "start" }>): Promise<void> {
  const { record } = message;
  const replica = message.replica ?? 0;
  // What `ps` shows: the function this process runs (a standby's command line named none). It keeps
  // "worker-main" in it, which is how operators and tests find replicas (`pgrep -f worker-main`).
  process.title = `eddy worker-main ${record.name}#${replica}`;
  log.level = message.logLevel;
  // Where a cold start's time goes, in the "worker ready" line: Node and modules, the isolate, joining the group.
  const startedAt = performance.now();
  const recorder = new StatsRecorder();
  stats = recorder;
  suspects.replace(message.suspects ?? []);
  // The SDK loads while the isolate builds; without tracing it is never imported.
  const tracingStarted = startTracing(message.tracing ?? null, { "faas.name": record.name, "faas.version": String(record.version), "faas.instance": String(replica) });
  sandbox = await FunctionSandbox.create({
    code: record.code,
    memoryMb: record.config.memoryMb,
    env: functionEnv(record, message.secretKey ? Buffer.from(message.secretKey, "base64") : null),
    function: { name: record.name, version: record.version },
    onLog: (level, text, trace) => send({ type: "function-log", level, message: text, at: new Date().toISOString(), ...trace }),
    // What ctx.fetch may reach, and the prefix of the topics ctx.emit must not write to.
    egress: record.config.egress,
    topicPrefix: message.topicPrefix,
    state: record.config.state !== undefined,
    // ctx.fetch follows the function's concurrency, so that "key" and "none" are not held to 16 requests at a time.
    limits: { maxConcurrentFetches: Math.max(DEFAULT_SANDBOX_LIMITS.maxConcurrentFetches, record.config.concurrency) },
  });
  tracing = await tracingStarted;
  const kafka = createKafka(message.kafka, `eddy-worker-${record.name}-${replica}`);
  let lastReport = "";
  // An idle worker's figures stay the same: sending them again would only wake both processes.
  const report = () => {
    const message = statsMessage();
    const text = JSON.stringify(message);
    if (text === lastReport) return;
    lastReport = text;
    send(message);
  };
  dispatcher = new Dispatcher({
    kafka,
    record,
    groupId: message.groupId,
    sandbox,
    stats: recorder,
    replica,
    // The breaker's state shows in `GET /v1/functions/:name` without waiting for the next report.
    onCircuitChange: () => setImmediate(report),
    tracer: tracing?.tracer,
    onFatal: (error) => fail(error, "the dispatcher cannot go on; exiting so that the worker is restarted"),
    suspects,
    flight: new FlightReporter(send),
    evictMembers: message.evictMembers,
    onJoin: (memberId) => send({ type: "joined", memberId }),
  });
  const sandboxReadyAt = performance.now();
  await dispatcher.start();
  setInterval(report, STATS_INTERVAL_MS).unref();
  send({ type: "ready" });
  const ms = (from: number, to: number) => Math.round(to - from);
  // waitedMs: how long the booted process waited for its function (a standby's wait; ~0 for a worker forked for it).
  const startup = { bootMs: BOOT_MS, waitedMs: ms(BOOT_MS, startedAt), sandboxMs: ms(startedAt, sandboxReadyAt), consumerMs: ms(sandboxReadyAt, performance.now()) };
  log.info({ function: record.name, version: record.version, tracing: tracing !== undefined, startup, replica }, "worker ready");
}

function statsMessage(): FromWorker {
  const stuck = dispatcher?.stuckRecords() ?? [];
  const store = dispatcher?.stateStatus();
  return { type: "stats", stats: stats!.snapshot(), circuit: dispatcher?.circuit() ?? "closed", ...(stuck.length > 0 && { stuck }), ...(store && { store }) };
}

/**
 * Drains: invocations in flight finish and are committed, then the process leaves the group, reports
 * its final counts (so a scaled-down replica's work stays counted) and exits.
 */
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await dispatcher?.stop();
    sandbox?.dispose();
    await tracing?.shutdown();
  } catch (error) {
    log.error({ err: error }, "error while draining");
  } finally {
    if (stats && process.connected) process.send?.(statsMessage(), () => process.exit(0));
    else process.exit(0);
  }
}

process.on("message", (message: ToWorker) => {
  if (message.type === "start") {
    start(message).catch((error: unknown) => fail(error, "worker failed to start"));
  } else if (message.type === "stop") {
    void stop();
  } else if (message.type === "suspects") {
    suspects.replace(message.suspects);
  } else if (message.type === "dead-letter") {
    send({ type: "dead-letter-result", requestId: message.requestId, result: dispatcher?.deadLetterNow(message.position) ?? "absent" });
  }
});
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// The control plane going away (even by kill -9) must not leave orphan replicas consuming.
process.on("disconnect", () => void stop());
