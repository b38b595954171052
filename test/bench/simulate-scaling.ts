/**
 * `npm run build && node dist/test/bench/simulate-scaling.js [--events]`: the scaler simulation alone
 * (no broker, a few seconds), its table as markdown on stdout. `--events` adds every change of the
 * replica count with its reason. Figures from EDDY_SIM_CAPACITY and EDDY_SIM_REBALANCE_MS (see
 * scenarios/scaler-simulation.ts).
 */
import { table } from "./report.js";
import { simulateAll, simulationOptions, type SimulationOptions } from "./scenarios/scaler-simulation.js";

let options: SimulationOptions;
try {
  options = simulationOptions();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const result = simulateAll(options);
const out: string[] = [result.setup, "", table(result.columns, result.rows), "", ...result.notes.map((note) => `- ${note}`)];
if (process.argv.includes("--events")) {
  for (const trace of result.traces) {
    if ("skipped" in trace) continue;
    for (const scaler of ["eddy", "keda"] as const) {
      out.push("", `### ${trace.trace.id}, ${scaler}`, "");
      for (const e of trace[scaler].events) out.push(`- ${(e.atMs / 1_000).toFixed(2)} s: ${e.from} → ${e.to} (lag ${e.lag}): ${e.reason}`);
    }
  }
}
out.push("", `Simulated in ${(result.durationMs / 1_000).toFixed(1)} s.`);
process.stdout.write(`${out.join("\n")}\n`);
