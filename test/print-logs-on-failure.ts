import { afterEach } from "vitest";
import { EddyProcess } from "./helpers/eddy-process.js";

/** How much of each running Eddy's log a failed test prints: enough for the minute before the failure. */
const TAIL_CHARS = 20_000;

/**
 * A failed integration test prints the end of the log of every `eddy start` it has running, so that a
 * failure in CI (where nothing else of the run survives) shows what Eddy did around it.
 */
afterEach(({ task }) => {
  if (task.result?.state !== "fail") return;
  for (const eddy of EddyProcess.running) {
    process.stderr.write(`\n--- the last of the log of eddy start at ${eddy.url} (test "${task.name}" failed) ---\n${eddy.logs.slice(-TAIL_CHARS)}\n--- end of its log ---\n`);
  }
});
