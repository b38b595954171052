import type { MachineInfo } from "./lib/machine.js";
import { QUICK_SIZES, type BenchSizes } from "./lib/options.js";
import type { ScenarioReport, TargetCheck } from "./lib/scenario.js";

export interface BenchResults {
  command: string;
  mode: "full" | "quick";
  date: string;
  durationMs: number;
  machine: MachineInfo;
  sizes: BenchSizes;
  scenarios: ScenarioReport[];
  /** Where the run wrote its JSON, from the repository's root (an --only run writes results/quick.json, not latest.json). */
  rawFile?: string;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function table(columns: string[], rows: string[][]): string {
  const head = `| ${columns.map(cell).join(" | ")} |`;
  const rule = `|${columns.map(() => "---").join("|")}|`;
  return [head, rule, ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`)].join("\n");
}

/** "uncommitted work in 12 files (runtime/control 7, runtime/sandbox 5)": what the run measured beyond the commit. */
function workInProgress(files: string[]): string {
  const byFolder = new Map<string, number>();
  for (const file of files) {
    const folder = file.split("/").slice(0, -1).slice(0, 2).join("/") || ".";
    byFolder.set(folder, (byFolder.get(folder) ?? 0) + 1);
  }
  const folders = [...byFolder].sort((a, b) => b[1] - a[1]).map(([folder, count]) => `\`${folder}/\` ${count}`);
  return `uncommitted work in progress in ${files.length} files of the working tree (${folders.join(", ")}): the figures are of that tree.`;
}

function metText(met: boolean | null): string {
  return met === null ? "not measured" : met ? "**met**" : "**not met**";
}

function quickSizes(sizes: BenchSizes): string {
  return [
    `throughput ${sizes.throughput.records.toLocaleString("en-US")} records × ${sizes.throughput.rounds} rounds`,
    `latency ${sizes.latency.durationMs / 1000} s at ${sizes.latency.ratePerSecond}/s`,
    `slow handler ${sizes.slowHandler.records} records over ${sizes.slowHandler.keys} keys`,
    `sandbox ${sizes.sandbox.recordsPerCase.toLocaleString("en-US")} records per case`,
    `cold start ${sizes.coldStart.deploys} deploys and ${sizes.coldStart.isolates} isolates`,
    `memory ${sizes.memory.functions.join(" and ")} functions`,
    `profile ${sizes.profile.records.toLocaleString("en-US")} records`,
    `tracing ${sizes.tracing.records.toLocaleString("en-US")} records × ${sizes.tracing.rounds} round(s)`,
    `stateful ${sizes.stateful.records.toLocaleString("en-US")} records × ${sizes.stateful.rounds} round(s) and ${sizes.stateful.restores} restart(s)`,
  ].join(", ");
}

/** docs/benchmarks.md (or results/quick.md): the run's figures, one table per scenario, nothing written by hand. */
export function renderReport(results: BenchResults): string {
  const { machine } = results;
  const minutes = Math.floor(results.durationMs / 60_000);
  const seconds = Math.round((results.durationMs % 60_000) / 1000);
  const out: string[] = [];
  out.push("# Benchmarks: Eddy against a bare kafkajs consumer");
  out.push("");
  out.push(
    `Written by \`${results.command}\` on ${results.date.slice(0, 10)} (${results.date}); the run took ${minutes} min ${seconds} s. ` +
      "Generated from `test/bench/` and rewritten by every full run: do not edit by hand. Raw figures: " +
      `\`${results.rawFile ?? `test/bench/results/${results.mode === "full" ? "latest" : "quick"}.json`}\`.`,
  );
  if (results.mode === "quick") {
    out.push("");
    out.push(`**Quick run**: smaller counts and durations than the issue asks for (${quickSizes(results.sizes)}); a smoke test of the bench, not figures to quote.`);
  }
  out.push("");
  out.push("## Machine");
  out.push("");
  out.push(
    `- ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB memory, ${machine.os}. ` +
      "**A shared 2-core machine**: other engineers' builds and test suites may have run at the same time and disturbed the timings; " +
      "each scenario's 1-minute load average before and after is shown under its table.",
  );
  out.push(`- Load average at start: ${machine.loadAverageAtStart.join(", ")} (1, 5, 15 min).`);
  out.push(`- Node ${machine.node}, Apache Kafka ${machine.kafka} (one local KRaft broker on 127.0.0.1, started by the bench with Eddy's own broker manager), kafkajs ${machine.kafkajs}, isolated-vm ${machine.isolatedVm}.`);
  out.push(`- Eddy at commit \`${machine.commit}\`${machine.uncommitted.length > 0 ? `, plus ${workInProgress(machine.uncommitted)}` : ", with a clean working tree."}`);
  out.push("");

  out.push("## Targets (issues 6 and 11)");
  out.push("");
  const targets: TargetCheck[] = results.scenarios.flatMap((s) => s.targets);
  if (targets.length === 0) out.push("No target was measured in this run.");
  else out.push(table(["scenario", "goal", "measured", "met"], targets.map((t) => [t.scenario, t.goal, t.measured, metText(t.met)])));
  out.push("");

  for (const scenario of results.scenarios) {
    out.push(`## ${scenario.number}. ${scenario.title}`);
    out.push("");
    if (scenario.error !== undefined) {
      out.push(`**The scenario failed in this run**: ${scenario.error.split("\n")[0]}`);
      out.push("");
      continue;
    }
    out.push(scenario.setup);
    out.push("");
    out.push(table(scenario.columns, scenario.rows));
    out.push("");
    for (const note of scenario.notes) out.push(`- ${note}`);
    out.push(
      `- Took ${(scenario.durationMs / 1000).toFixed(0)} s; load average ${scenario.loadAverage.before.toFixed(2)} before, ${scenario.loadAverage.after.toFixed(2)} after.`,
    );
    out.push("");
  }

  out.push("## Method");
  out.push("");
  out.push(
    [
      "- Each scenario runs beside its baseline on the same broker in the same run, one variant after the other (never two at once), so that they do not compete for the two cores.",
      "- Eddy runs as it ships: `eddy start` from `dist/` (control plane plus one worker process per function), pointed at the bench's broker with `KAFKA_BROKERS`, log level `warn`; functions are deployed with `POST /v1/functions`. A fresh `eddy start` (own data dir and topic prefix) serves each Eddy variant, so no earlier worker shares the machine.",
      "- Baselines are bare kafkajs consumers with kafkajs' defaults, each in its own Node process (`test/bench/baseline/kafkajs-consumer.ts`), as a user would run one.",
      "- Throughput is timed from the consumer's group join to the last record done. For Eddy, the bench polls the group every 10 ms: its members (the worker's consumer joining) and its committed offsets (Eddy commits only past finished records). A baseline reports its join and each batch or record it finished, with timestamps, on its stdout. Latency is measured end to end on one clock: the producer writes its send time into each record, and a reader in the bench process takes the difference when the relayed record arrives.",
      "- Traffic goes only to 127.0.0.1: the broker, Eddy's API, the 10 ms HTTP server of scenario 3 and the discarding OTLP endpoint of scenario 10. Every wait has a time limit; a variant that runs out of time is reported as incomplete with the rate it reached.",
      `- Quick mode (\`npm run bench -- --quick\`) runs the same scenarios with smaller counts (${quickSizes(QUICK_SIZES)}) and writes \`test/bench/results/quick.md\` instead of this file.`,
      "- Timings are never asserted anywhere: this report is the only place they go.",
    ].join("\n"),
  );
  out.push("");
  return `${out.join("\n")}`;
}
