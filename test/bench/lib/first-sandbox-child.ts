/**
 * Run by scenario 5 in a fresh process (`node --no-node-snapshot first-sandbox-child.js <bundle file>`):
 * times the first FunctionSandbox of a process, as a new worker pays it (the harness, prebuilt by
 * `npm run build`, is read once per process), and prints the figures as one JSON line.
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { FunctionSandbox } from "../../../runtime/sandbox/function-sandbox.js";

const code = readFileSync(process.argv[2]!, "utf8");
const record = { topic: "bench.cold", partition: 0, offset: "0", timestamp: Date.now(), key: null, value: new TextEncoder().encode("cold"), headers: {} };
const from = performance.now();
const sandbox = await FunctionSandbox.create({ code, memoryMb: 128, env: {}, function: { name: "cold-isolate", version: 1 }, onLog: () => undefined });
const ready = performance.now();
const result = await sandbox.invoke([record], { attempt: 1, timeoutMs: 10_000 });
const called = performance.now();
sandbox.dispose();
process.stdout.write(`${JSON.stringify({ createMs: ready - from, firstCallMs: called - ready, ok: result.outcomes[0]?.status === "ok" })}\n`);
process.exit(0);
