import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["runtime/**/*.test.ts", "sdk/**/*.test.ts", "test/**/*.test.ts", "functions/**/*.test.ts"],
    // Fault tests kill brokers of a three-node cluster: `npm run test:faults` (vitest.faults.config.ts) runs them.
    exclude: [...configDefaults.exclude, "test/faults/**"],
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/print-logs-on-failure.ts"],
    // Integration tests start real processes against one real broker; two cores do not gain from more.
    fileParallelism: false,
    // isolated-vm needs V8's startup snapshot off on Node 20 (it crashes otherwise).
    pool: "forks",
    poolOptions: { forks: { execArgv: ["--no-node-snapshot"] } },
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
