import type { Command } from "commander";
import { callApi, functionRoute } from "./api-client.js";
import { configFor, wantsJson } from "./context.js";

interface Status {
  name: string;
  version: number;
  state: string;
  replicas: { desired: number; ready: number; restarts?: number; nextRestartInMs?: number | null };
  lag: { total: number };
  circuit: string;
  stuck?: { topic: string; partition: number; offset: string; attempts: number; lastError: { name: string; message: string }; waitingMs: number }[];
  crashes?: { suspects: number; quarantined: number; last: { at: string; replica: number; exit: string; inFlight: number } | null };
  stats: { processed: number; failed: number; retried: number; deadLettered: number; p50Ms: number; p99Ms: number };
  config: { topics: string[] };
  scaler?: {
    mode: string;
    lag: number;
    arrivalPerSec: number;
    drainPerReplicaPerSec: number | null;
    lastChange: { at: string; from: number; to: number; reason: string } | null;
  };
  stateStore?: { keys: number; bytes: number; restoring: number; maxBytesPerReplica: number; topic: string };
  redrive?: { state: string; topic: string; total: number; done: number; succeeded: number; deadLettered: number };
}

export function registerGetCommand(program: Command): void {
  program
    .command("get <name>")
    .description("show a function's configuration and live status")
    .action(async (name: string, _options: unknown, command: Command) => {
      const status = await callApi<Status>(configFor(command), "GET", functionRoute(name));
      if (wantsJson(command)) return void process.stdout.write(`${JSON.stringify(status)}\n`);
      const s = status.stats;
      process.stdout.write(
        [
          `${status.name} v${status.version}: ${status.state}, replicas ${status.replicas.ready}/${status.replicas.desired}${restartsText(status.replicas)}, circuit ${status.circuit}`,
          `topics: ${status.config.topics.join(", ")}   lag: ${status.lag.total}`,
          ...(status.scaler ? [scalerLine(status.scaler)] : []),
          ...(status.crashes?.last ? [crashLine(status.crashes)] : []),
          ...(status.stuck ?? []).map((s) => stuckLine(status.name, s)),
          ...(status.stateStore ? [stateLine(status.name, status.stateStore)] : []),
          `processed ${s.processed}, failed ${s.failed}, retried ${s.retried}, dead-lettered ${s.deadLettered}, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms`,
          ...(status.redrive
            ? [
                `redrive from ${status.redrive.topic}: ${status.redrive.state}, ${status.redrive.done}/${status.redrive.total} (${status.redrive.succeeded} succeeded, ${status.redrive.deadLettered} dead-lettered again)`,
              ]
            : []),
        ].join("\n") + "\n",
      );
    });
}

/** `state: 1200 keys, 84.2 KiB in orders.state (limit 64.0 MiB a replica); eddy state get orders <key>` */
function stateLine(name: string, store: NonNullable<Status["stateStore"]>): string {
  const size = (bytes: number) => (bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MiB` : `${(bytes / 1_024).toFixed(1)} KiB`);
  const restoring = store.restoring > 0 ? `, restoring ${store.restoring} partition(s)` : "";
  return `state: ${store.keys} keys, ${size(store.bytes)} in ${store.topic} (limit ${size(store.maxBytesPerReplica)} a replica${restoring}); eddy state get ${name} <key>`;
}

/** `scaler stable: 2.0/s arriving, 850/s per replica; last 1 → 3 at 12:00:01 (panic: …)` */
function scalerLine(scaler: NonNullable<Status["scaler"]>): string {
  const drain = scaler.drainPerReplicaPerSec === null ? "per-replica rate not measured yet" : `${scaler.drainPerReplicaPerSec}/s per replica`;
  const last = scaler.lastChange ? `; last ${scaler.lastChange.from} → ${scaler.lastChange.to} at ${scaler.lastChange.at} (${scaler.lastChange.reason})` : "";
  return `scaler ${scaler.mode}: ${scaler.arrivalPerSec}/s arriving, ${drain}${last}`;
}

/** `stuck: orders/2@1041 for 42 s (5 attempts, last Error: …): eddy dead-letter fn orders/2@1041 moves it on` */
function stuckLine(name: string, stuck: NonNullable<Status["stuck"]>[number]): string {
  const where = `${stuck.topic}/${stuck.partition}@${stuck.offset}`;
  return `stuck: ${where} for ${Math.round(stuck.waitingMs / 1000)} s (${stuck.attempts} attempts, last ${stuck.lastError.name}: ${stuck.lastError.message}); if it is poison: eddy dead-letter ${name} ${where}`;
}

/** `crashes: last at 12:00:01 (replica 0, signal SIGABRT, 7 records in flight); 4 suspects, 1 quarantined` */
function crashLine(crashes: NonNullable<Status["crashes"]>): string {
  const last = crashes.last!;
  return `crashes: last at ${last.at} (replica ${last.replica}, ${last.exit}, ${last.inFlight} records in flight); ${crashes.suspects} suspects, ${crashes.quarantined} quarantined`;
}

/** ", 3 restarts (next in 4.0 s)" when workers crashed; nothing otherwise. */
function restartsText({ restarts, nextRestartInMs }: Status["replicas"]): string {
  if (!restarts) return "";
  const next = nextRestartInMs === null || nextRestartInMs === undefined ? "" : ` (next in ${(nextRestartInMs / 1000).toFixed(1)} s)`;
  return `, ${restarts} restart${restarts === 1 ? "" : "s"}${next}`;
}
