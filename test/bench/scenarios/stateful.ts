import { performance } from "node:perf_hooks";
import { checkChangelog, changelogLength, type ChangelogCheck } from "../lib/changelog-check.js";
import { createTopic, paddedValue, produceRecords, watchCommits } from "../lib/kafka-tools.js";
import { progress } from "../lib/progress.js";
import type { BenchContext, Scenario } from "../lib/scenario.js";
import { fmt, fmtInt, fmtRatio, median, ratio } from "../lib/stats.js";
import { runEddyFunction, type ConsumeRun } from "../lib/variants.js";

const TOPIC = "bench.stateful";
const OUT_TOPIC = "bench.stateful.out";
/** The control's second emit goes here: compacted like a changelog, with the record's key and a small value like a count. */
const COPY_TOPIC = "bench.stateful.copy";
/** What a restarted function reads after its restore: one record per partition. */
const PROBE_TOPIC = "bench.stateful.probe";
const RESTART_TIMEOUT_MS = 90_000;

type Variant = "relay" | "twoEmits" | "counter";
/** The variants that are restarted: the control adds nothing there. */
type RestartVariant = "relay" | "counter";
const VARIANTS: readonly Variant[] = ["relay", "twoEmits", "counter"];
const LABELS: Record<Variant, string> = { relay: "stateless relay", twoEmits: "relay with a second emit (control)", counter: "stateful counter" };
/** A function's name in round `round`: fresh each round, since the changelog is <name>.state (no topic prefix), so each round's counter starts from an empty one. */
const functionName = (variant: Variant, round: number): string => `stateful-${{ relay: "relay", twoEmits: "two-emits", counter: "counter" }[variant]}-${round}`;

/** A function reading `topic` from the start whose handler runs `body`; `state` adds `state: {}`. */
function functionSource(name: string, topic: string, body: string, state = false): string {
  return `
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "${name}",
  topics: ["${topic}"],
  startFrom: "earliest",${state ? "\n  state: {}," : ""}
  async handle(event, ctx) {
${body}
  },
});
`;
}

const RELAY = `    await ctx.emit("${OUT_TOPIC}", event.value, { key: event.key });`;

const SOURCES: Record<Variant, (name: string, topic: string) => string> = {
  // The stateless relay: each record to the output topic, keyed as it came.
  relay: (name, topic) => functionSource(name, topic, RELAY),
  // The stateful counter: the same emit, plus a count per key in ctx.state.
  counter: (name, topic) => functionSource(name, topic, `    const n = (await ctx.state.get<number>()) ?? 0;\n    ctx.state.set(n + 1);\n${RELAY}`, true),
  // The control: the relay plus a second emit per record, of the size of the counter's changelog record (the
  // key, a short value) to a compacted topic. It produces what the counter produces, without ctx.state: what
  // the counter costs beyond it is the state machinery itself.
  twoEmits: (name, topic) => functionSource(name, topic, `${RELAY}\n    await ctx.emit("${COPY_TOPIC}", "42", { key: event.key });`),
};

/** One round's pair of runs, and the counter's changelog read back afterwards. */
interface Round {
  relay: ConsumeRun;
  twoEmits: ConsumeRun;
  counter: ConsumeRun;
  changelog: ChangelogCheck | null;
}

/** A redeploy of a function that already ran (fresh `eddy start`, fresh group) on the probe topic: deploy → join → first commit. */
interface Restart {
  variant: RestartVariant;
  deployToJoinMs: number | null;
  joinToCommitMs: number | null;
  deployToCommitMs: number | null;
  /** Changelog records the counter's restore had to read (the relay has none). */
  changelogRecords: number;
  /** The worker's own "state restored" log line, when it wrote one. */
  restoredLog: { ms: number; keys: number; partitions: number } | null;
  error?: string;
}

/** "123,456 (110,000–130,000)": the median over the rounds and their spread. */
function medianWithSpread(values: number[], format: (v: number) => string): string {
  if (values.length === 0) return "—";
  if (values.length === 1) return format(values[0]!);
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

const present = (values: Array<number | null | undefined>): number[] => values.filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));

/** The last "state restored" line the worker logged (runtime/state/state-restorer.ts), read off Eddy's stderr. */
function restoredLine(stderr: string): Restart["restoredLog"] {
  let found: Restart["restoredLog"] = null;
  for (const line of stderr.split("\n")) {
    if (!line.includes("state restored")) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; ms?: number; keys?: number; partitions?: number[] };
      if (entry.msg === "state restored" && typeof entry.ms === "number") found = { ms: entry.ms, keys: entry.keys ?? 0, partitions: entry.partitions?.length ?? 0 };
    } catch {
      // Not one of Eddy's JSON log lines.
    }
  }
  return found;
}

/**
 * Deploys `name` again on a fresh `eddy start` (its worker starts from nothing, as after a crash or on
 * another machine), now on the probe topic, and times the deploy request → group join → the probe
 * records committed. The counter first restores its state from the changelog its earlier run wrote.
 */
async function restart(context: BenchContext, variant: RestartVariant, name: string, probes: number): Promise<Restart> {
  const changelogRecords = variant === "counter" ? await changelogLength(context.admin, `${name}.state`) : 0;
  const label = `${LABELS[variant]} restart`;
  // Info level for the restorer's "state restored" line: a handful of lines, nothing per record.
  const eddy = await context.startEddy(label, { EDDY_LOG_LEVEL: "info" });
  try {
    const startedAt = performance.now();
    const abort = new AbortController();
    const watching = watchCommits(context.admin, eddy.groupOf(name), PROBE_TOPIC, probes, {
      timeoutMs: RESTART_TIMEOUT_MS,
      joinedBy: (clientId) => clientId.startsWith("eddy-worker-"),
      signal: abort.signal,
      failFast: () => eddy.workerFailure(),
    });
    watching.catch(() => undefined);
    await eddy.deploy(SOURCES[variant](name, PROBE_TOPIC)).catch(async (error: unknown) => {
      abort.abort();
      await watching.catch(() => undefined);
      throw error;
    });
    const watch = await watching;
    if (watch.doneAt === null) throw new Error(`${watch.committed} of ${probes} probe records committed within ${RESTART_TIMEOUT_MS / 1000} s`);
    const result: Restart = {
      variant,
      deployToJoinMs: watch.joinedAt === null ? null : watch.joinedAt - startedAt,
      joinToCommitMs: watch.joinedAt === null ? null : watch.doneAt - watch.joinedAt,
      deployToCommitMs: watch.doneAt - startedAt,
      changelogRecords,
      restoredLog: restoredLine(eddy.logTail(100_000)),
    };
    const restored = result.restoredLog ? `; the worker restored ${fmtInt(result.restoredLog.keys)} keys in ${fmtInt(result.restoredLog.ms)} ms` : "";
    progress(`  ${label}: joined ${fmt((result.deployToJoinMs ?? Number.NaN) / 1000, 2)} s after the deploy request, probes committed ${fmt(result.deployToCommitMs! / 1000, 2)} s after it${restored}`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`  ${label}: FAILED: ${message.split("\n")[0]}`);
    return { variant, deployToJoinMs: null, joinToCommitMs: null, deployToCommitMs: null, changelogRecords, restoredLog: null, error: message };
  } finally {
    await eddy.stop();
  }
}

/**
 * Scenario 11 (issue 15): what ctx.state costs. The same keyed records are read by a stateless relay
 * (emit each record), a control (the relay plus a second emit of a changelog record's size) and a
 * stateful counter (the relay's emit, plus ctx.state.get and set per record), taking turns over the
 * rounds, each on a fresh `eddy start`; then the relay and the counter are started again on a fresh
 * `eddy start` to time the counter's restore from its changelog against the relay's plain start.
 */
export const stateful: Scenario = {
  id: "stateful",
  number: 11,
  title: "Stateful counter vs stateless relay",
  async run(context) {
    const { records, keys, partitions, valueBytes, timeoutMs, rounds, restores } = context.options.sizes.stateful;
    if (keys % partitions !== 0) throw new Error(`stateful.keys (${keys}) must be a multiple of stateful.partitions (${partitions}), so that each key stays on one partition`);
    await createTopic(context.admin, TOPIC, partitions);
    await createTopic(context.admin, OUT_TOPIC, partitions);
    if (!(await context.admin.listTopics()).includes(COPY_TOPIC)) {
      await context.admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic: COPY_TOPIC, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] }],
      });
    }
    await createTopic(context.admin, COPY_TOPIC, partitions);
    await createTopic(context.admin, PROBE_TOPIC, partitions);
    progress(`  producing ${records.toLocaleString("en-US")} records over ${keys.toLocaleString("en-US")} keys and ${partitions} partitions`);
    const producingFrom = performance.now();
    // Record i goes to partition i mod partitions and has key i mod keys: with keys a multiple of partitions, a key's records all share one partition.
    await produceRecords(context.kafka, TOPIC, records, (i) => ({ key: `key-${i % keys}`, value: paddedValue(i, valueBytes) }), { partitions });
    await produceRecords(context.kafka, PROBE_TOPIC, partitions, (i) => ({ key: `key-${i}`, value: paddedValue(i, valueBytes) }), { partitions });
    const produceMs = performance.now() - producingFrom;
    /** How many records key-<k> has: what the counter must end at. */
    const recordsOfKey = (key: string) => {
      const k = Number(key.slice("key-".length));
      return Math.floor(records / keys) + (k < records % keys ? 1 : 0);
    };

    const done: Round[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      // The order rotates too, so that no variant always runs first (on a cooler machine, a smaller output topic).
      const order = VARIANTS.map((_, k) => VARIANTS[(k + (round - 1) * 2) % VARIANTS.length]!);
      progress(`  round ${round} of ${rounds}: ${order.map((v) => LABELS[v]).join(", then ")}`);
      const runs = {} as Record<Variant, ConsumeRun>;
      for (const variant of order) {
        const name = functionName(variant, round);
        runs[variant] = await runEddyFunction(context, `${LABELS[variant]}, round ${round}`, { name, source: SOURCES[variant](name, TOPIC) }, TOPIC, records, timeoutMs);
      }
      let changelog: ChangelogCheck | null = null;
      if (runs.counter.complete) {
        changelog = await checkChangelog(context.kafka, context.admin, `${functionName("counter", round)}.state`, recordsOfKey).catch((error: unknown) => {
          progress(`  reading the changelog failed: ${error instanceof Error ? error.message : String(error)}`);
          return null;
        });
        if (changelog) progress(`  changelog: ${fmtInt(changelog.records)} records, ${fmtInt(changelog.keys)} keys, ${changelog.wrongKeys} with a count other than their records`);
      }
      done.push({ ...runs, changelog });
    }

    // Restarts of the last round's functions, alternating; the counter's changelog holds that round's writes.
    const restarts: Restart[] = [];
    for (let i = 1; i <= restores; i += 1) {
      progress(`  restart ${i} of ${restores}`);
      for (const variant of ["relay", "counter"] as const) restarts.push(await restart(context, variant, functionName(variant, rounds), partitions));
    }

    const rates = (variant: Variant) => present(done.map((r) => (r[variant].complete ? r[variant].perSecond : null)));
    const steady = (variant: Variant) => present(done.map((r) => (r[variant].complete ? r[variant].steadyPerSecond : null)));
    const seconds = (variant: Variant, key: "toJoinMs" | "joinToFirstCommitMs") => present(done.map((r) => r[variant][key])).map((ms) => ms / 1000);
    /** `of` over `to` within each round (both complete), for a figure `pick` takes off a run. */
    const withinRound = (of: Variant, to: Variant, pick: (run: ConsumeRun) => number | null | undefined) =>
      present(done.map((r) => (r[of].complete && r[to].complete ? ratio(pick(r[of]), pick(r[to])) : null)));
    type RestartFigure = "deployToJoinMs" | "joinToCommitMs" | "deployToCommitMs";
    const ofRestarts = (variant: RestartVariant, key: RestartFigure) => present(restarts.filter((r) => r.variant === variant).map((r) => r[key]));
    // Restarts alternate relay, counter: the i-th of each form a pair.
    const restartRatios = (key: RestartFigure) => {
      const relay = restarts.filter((r) => r.variant === "relay");
      const counter = restarts.filter((r) => r.variant === "counter");
      return present(counter.map((c, i) => ratio(c[key], relay[i]?.[key])));
    };
    const restoredMs = present(restarts.map((r) => r.restoredLog?.ms));
    const restoredKeys = present(restarts.map((r) => r.restoredLog?.keys));
    const changelogRecords = present(restarts.filter((r) => r.variant === "counter").map((r) => r.changelogRecords));
    const ms = (v: number) => fmt(v, 0);
    const s2 = (v: number) => fmt(v, 2);

    /** A row of a figure every variant has in every round: the three, then the counter over the relay and over the control. */
    const roundRow = (figure: string, values: (variant: Variant) => number[], format: (v: number) => string, pick: (run: ConsumeRun) => number | null | undefined): string[] => [
      figure,
      ...VARIANTS.map((variant) => medianWithSpread(values(variant), format)),
      medianWithSpread(withinRound("counter", "relay", pick), fmtRatio),
      medianWithSpread(withinRound("counter", "twoEmits", pick), fmtRatio),
    ];
    /** A row of the restarts: the relay and the counter only. */
    const restartRow = (figure: string, key: RestartFigure): string[] => [
      figure,
      medianWithSpread(ofRestarts("relay", key), ms),
      "—",
      medianWithSpread(ofRestarts("counter", key), ms),
      medianWithSpread(restartRatios(key), fmtRatio),
      "—",
    ];
    const rows: string[][] = [
      roundRow("records/s, group join → all committed", rates, fmtInt, (r) => r.perSecond),
      roundRow("records/s, first commit → all committed (without the start)", steady, fmtInt, (r) => r.steadyPerSecond),
      roundRow("group join → first commit (s)", (v) => seconds(v, "joinToFirstCommitMs"), s2, (r) => r.joinToFirstCommitMs),
      roundRow("deploy request → group join (s)", (v) => seconds(v, "toJoinMs"), s2, (r) => r.toJoinMs),
      restartRow("restart: deploy request → group join (ms)", "deployToJoinMs"),
      restartRow("restart: group join → probe records committed (ms)", "joinToCommitMs"),
      restartRow("restart: deploy request → probe records committed (ms)", "deployToCommitMs"),
      [
        `restart: the restore itself, as the worker logs it (ms, ${restoredKeys.length > 0 ? fmtInt(median(restoredKeys)) : "?"} keys)`,
        "—",
        "—",
        medianWithSpread(restoredMs, ms),
        "—",
        "—",
      ],
    ];

    const notes: string[] = [];
    const runs = done.flatMap((r) => VARIANTS.map((v) => r[v]));
    for (const run of runs) if (run.error !== undefined) notes.push(`${run.label} failed: ${run.error.split("\n")[0]}`);
    for (const run of runs) if (!run.complete && run.error === undefined) notes.push(`${run.label}: incomplete, ${fmtInt(run.committed)} of ${fmtInt(run.total)} committed in the time limit.`);
    for (const run of runs) {
      const stats = run.eddyStats;
      if (stats && (stats.failed > 0 || stats.deadLettered > 0)) notes.push(`${run.label}: Eddy reported ${stats.failed} failed and ${stats.deadLettered} dead-lettered invocations.`);
    }
    const checked = done.flatMap((r) => (r.changelog === null ? [] : [r.changelog]));
    const wrong = checked.filter((c) => c.wrongKeys > 0);
    if (checked.length > 0) {
      const first = checked[0]!;
      notes.push(
        wrong.length === 0
          ? `The counter's changelog of ${checked.length === done.length ? "each round" : `${checked.length} of ${done.length} rounds`}, read back with read_committed, holds ${fmtInt(first.records)} records for ${fmtInt(first.keys)} keys, every key at its number of records (${records % keys === 0 ? fmtInt(records / keys) : `${Math.floor(records / keys)} or ${Math.floor(records / keys) + 1}`}): nothing lost, nothing counted twice.`
          : `Changelog check: ${wrong.map((c) => `${c.topic} has ${c.wrongKeys} of ${c.keys} keys at a count other than their number of records`).join("; ")}.`,
      );
    }
    if (changelogRecords.length > 0) {
      notes.push(
        `Each restart of the counter read a changelog of ${medianWithSpread(changelogRecords, fmtInt)} records for ${fmtInt(keys)} keys: ` +
          "its topic is compacted, but Kafka compacts only closed segments, and a changelog's active segment (rolled hourly or at 64 MiB) holds a run this short whole, so this restore reads every write since the start, not one record per key.",
      );
    }
    for (const r of restarts) if (r.error !== undefined) notes.push(`${LABELS[r.variant]} restart failed: ${r.error.split("\n")[0]}`);
    if (restarts.some((r) => r.variant === "counter" && r.error === undefined && r.restoredLog === null)) notes.push("A counter restart logged no \"state restored\" line: its restore time is missing from the last row.");

    return {
      setup:
        `${records.toLocaleString("en-US")} records of ${valueBytes} bytes with keys key-<i mod ${keys.toLocaleString("en-US")}> over ${partitions} partitions (record i on partition i mod ${partitions}, so each key stays on one partition: ` +
        `${fmt(records / keys, 0)} records per key), produced before any timing (with the probe records below: ${(produceMs / 1000).toFixed(1)} s). ` +
        `Three functions read the whole topic from the beginning, each with its own consumer group on a fresh \`eddy start\`, one at a time: a stateless relay ` +
        `(\`await ctx.emit(out, event.value, { key: event.key })\`); a stateful counter (\`state: {}\`; the same emit after \`const n = (await ctx.state.get<number>()) ?? 0; ctx.state.set(n + 1);\`); ` +
        `and, as a control, the relay with a second \`ctx.emit\` per record of what a changelog record holds (the key and a 2-byte value) to a compacted topic, which produces as many records as the counter without \`ctx.state\`. ` +
        `All three run the default configuration (batches of 100, ordering "partition", delivery "at-least-once": the counter's writes go to its compacted changelog \`<name>.state\` in the same produce request as the emits). ` +
        `They take turns for ${rounds} round(s), the order rotating, each round with fresh function names (so a fresh changelog) and groups; each ratio is the counter over the relay, or over the control, of its own round. ` +
        `Records/s as in scenario 1 (group join to the last commit, offsets read every 10 ms); the second row leaves out the start (for the counter: restoring its empty changelog) by counting from the first commit seen. ` +
        `Restart: the last round's relay and counter deployed again, ${restores} time(s) each, alternating, each on a fresh \`eddy start\` (a new worker with an empty store, as after a crash or a move) ` +
        `reading a ${partitions}-partition probe topic of ${partitions} records (one per partition): the counter first restores every partition from the changelog its run wrote, the relay has nothing to restore. ` +
        `Figures: median (lowest–highest).`,
      columns: ["figure", LABELS.relay, LABELS.twoEmits, LABELS.counter, "stateful / stateless", "stateful / control"],
      rows,
      targets: [],
      notes,
      data: { records, keys, partitions, valueBytes, produceMs, rounds: done satisfies Round[], restarts },
    };
  },
};
