#!/usr/bin/env -S node --no-node-snapshot
// The `eddy` binary. `--no-node-snapshot` is required by isolated-vm on Node ≥ 20.
import "../dist/runtime/cli/main.js";
