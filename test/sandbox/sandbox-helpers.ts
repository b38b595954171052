// Shared by the adversarial sandbox suite: real isolates (FunctionSandbox in this process), a
// well-behaved neighbour that must keep working beside each hostile function, and checks that a
// hostile invocation left nothing behind.
import { expect } from "vitest";
import { bundleFunction } from "../../runtime/sandbox/bundler.js";
import {
  FunctionSandbox,
  type FunctionSandboxOptions,
  type InvocationResult,
  type LogLevel,
  type RecordOutcome,
  type SandboxRecord,
  type SerializedError,
} from "../../runtime/sandbox/function-sandbox.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface TestSandbox {
  sandbox: FunctionSandbox;
  logs: { level: LogLevel; message: string }[];
  invoke(values: (string | null)[], options?: { timeoutMs?: number; stopOnFailure?: boolean }): Promise<InvocationResult>;
}

const open: FunctionSandbox[] = [];

/** Disposes every sandbox made since the last call (afterEach / afterAll). */
export function disposeSandboxes(): void {
  for (const sandbox of open.splice(0)) sandbox.dispose();
}

export type SandboxOptions = Partial<Omit<FunctionSandboxOptions, "code" | "onLog">>;

/** A sandbox around a module whose body is `source`, with eddy/sdk's exports in scope. */
export async function sandboxFor(source: string, options: SandboxOptions = {}): Promise<TestSandbox> {
  const code = await bundleFunction({
    source: `import { defineFunction, NonRetriableError, RetryAfterError, BatchItemFailures } from "eddy/sdk";\n${source}`,
  });
  const logs: TestSandbox["logs"] = [];
  const sandbox = await FunctionSandbox.create({
    code,
    memoryMb: 32,
    env: {},
    function: { name: "hostile", version: 1 },
    ...options,
    onLog: (level, message) => logs.push({ level, message }),
  });
  open.push(sandbox);
  return {
    sandbox,
    logs,
    invoke: (values, { timeoutMs = 2_000, stopOnFailure } = {}) =>
      sandbox.invoke(
        values.map((value, i) => record(value, i)),
        { attempt: 1, timeoutMs, stopOnFailure },
      ),
  };
}

/**
 * A function whose handler answers the value "ping" with an emit of "pong" (so that a later
 * invocation shows the isolate still serves) and runs `body` for anything else. `prelude` is
 * module-level code.
 */
export function hostile(body: string, prelude = "", config = ""): string {
  return `${prelude}
export default defineFunction({ name: "hostile", topics: ["in"], ${config}
  async handle(event, ctx) {
    if (event.text() === "ping") { await ctx.emit("out", "pong"); return; }
    ${body}
  },
});`;
}

export function record(value: string | Uint8Array | null, offset = 0, overrides: Partial<SandboxRecord> = {}): SandboxRecord {
  return {
    topic: "in",
    partition: 0,
    offset: String(offset),
    timestamp: 1_700_000_000_000 + offset,
    key: `k${offset}`,
    value: typeof value === "string" ? encoder.encode(value) : value,
    headers: { "x-test": "yes" },
    ...overrides,
  };
}

export const text = (value: Uint8Array | null) => (value === null ? null : decoder.decode(value));
export const statuses = (result: InvocationResult) => result.outcomes.map((o) => o.status);
export const failure = (outcome: RecordOutcome | undefined): SerializedError | undefined => (outcome?.status === "failed" ? outcome.error : undefined);
export const emittedTexts = (result: InvocationResult) => result.emitted.map((e) => text(e.value));
/** The first emitted value, parsed as JSON. */
export const firstJson = (result: InvocationResult): any => JSON.parse(text(result.emitted[0]!.value)!);

/** Asserts the one record of `result` failed with `code` and a message matching `message`. */
export function expectFailure(result: InvocationResult, code: string | undefined, message: RegExp, index = 0): SerializedError {
  const error = failure(result.outcomes[index]);
  expect(error, `record ${index} should have failed, got ${JSON.stringify(result.outcomes[index])}`).toBeDefined();
  if (code !== undefined) expect(error!.code).toBe(code);
  expect(`${error!.name}: ${error!.message}`).toMatch(message);
  return error!;
}

/** The same sandbox serves the next invocation normally and nothing of the hostile one shows in it. */
export async function expectServesNext(subject: TestSandbox): Promise<void> {
  const logsBefore = subject.logs.length;
  const result = await subject.invoke(["ping"]);
  expect(statuses(result)).toEqual(["ok"]);
  expect(result.emitted.map((e) => [e.topic, text(e.value)])).toEqual([["out", "pong"]]);
  // Give stray timers or fetches of the hostile invocation a chance to show themselves.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(subject.logs.slice(logsBefore)).toEqual([]);
}

/** A well-behaved function with a secret of its own: it echoes each record, uppercased, to "echo". */
export async function neighbour(): Promise<TestSandbox> {
  const made = await sandboxFor(
    `let seen = 0;
    export default defineFunction({ name: "neighbour", topics: ["in"], handle(event, ctx) {
      seen += 1;
      ctx.emit("echo", event.text().toUpperCase() + ":" + ctx.env.SECRET + ":" + typeof Object.prototype.polluted, { key: event.key });
    } });`,
    { env: { SECRET: "neighbour-secret" }, function: { name: "neighbour", version: 1 } },
  );
  // Lives for the whole file: disposeSandboxes() between cases leaves it alone.
  open.splice(open.indexOf(made.sandbox), 1);
  return made;
}

/**
 * Runs the neighbour over and over until `work` settles, checking every result, and returns
 * work's result with how many neighbour invocations completed meanwhile.
 */
export async function besideNeighbour<T>(next: TestSandbox, work: Promise<T>): Promise<{ result: T; neighbourInvocations: number }> {
  let settled = false;
  const done = work.finally(() => (settled = true));
  let count = 0;
  do {
    const values = ["a", "b", "c"];
    const result = await next.invoke(values);
    expect(statuses(result)).toEqual(["ok", "ok", "ok"]);
    expect(emittedTexts(result)).toEqual(["A:neighbour-secret:undefined", "B:neighbour-secret:undefined", "C:neighbour-secret:undefined"]);
    count += 1;
    await new Promise((resolve) => setImmediate(resolve));
  } while (!settled);
  return { result: await done, neighbourInvocations: count };
}
