/** `node dist/runtime/dashboard/prebuild-dashboard.js`, a step of `npm run build`: bundles the web dashboard. */
import { buildDashboard } from "./build-dashboard.js";

buildDashboard().then(
  (dir) => process.stdout.write(`built the dashboard: ${dir}\n`),
  (error: unknown) => {
    process.stderr.write(`building the dashboard failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
