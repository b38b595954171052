/**
 * `node dist/runtime/sandbox/prebuild-harness.js`, the last step of `npm run build`: bundles the
 * in-isolate harness once, so that workers load it instead of bundling it at every start.
 */
import { prebuildHarness } from "./harness-script.js";

prebuildHarness().then(
  (file) => process.stdout.write(`prebuilt the sandbox harness: ${file}\n`),
  (error: unknown) => {
    process.stderr.write(`prebuilding the sandbox harness failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
