import { configDefaults, defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `npm run test:faults`: only the fault tests, on the three-node local cluster that test/global-setup.ts
// starts when EDDY_TEST_BROKERS=3. Everything else as in vitest.config.ts.
export default defineConfig({
  ...base,
  test: { ...base.test, include: ["test/faults/**/*.test.ts"], exclude: [...configDefaults.exclude] },
});
