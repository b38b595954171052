import { fileURLToPath } from "node:url";
import { DEFINED_AT, type FunctionDefinition } from "../../sdk/define-function.js";
import { EddyError } from "../eddy-error.js";
import { bundleEntryFile } from "../sandbox/bundler.js";
import { FunctionSandbox, invocationOrder, type InvocationOrder, type LogLevel, type RecordOutcome, type SandboxRecord } from "../sandbox/function-sandbox.js";
import type { SandboxFetcher } from "../sandbox/host-bridge.js";
import type { WireFetchResult } from "../sandbox/wire.js";
import { TestState } from "./test-state.js";

export interface TestFunctionOptions {
  /** What the function sees as ctx.env. Default {}. */
  env?: Record<string, string>;
  /**
   * Answers the function's ctx.fetch calls (those its `egress` allows; the others are denied as in
   * production), so a test never touches the network. Without it, ctx.fetch fails with EDDY_SANDBOX_FETCH_FAILED.
   */
  fetch?: (request: Request) => Response | Promise<Response>;
  /** ctx.function. Default: the definition's name, version 1. */
  function?: { name?: string; version?: number };
}

/** One record to invoke the function with: a string value is sent as UTF-8, bytes as they are, anything else as JSON. */
export interface TestRecord {
  key?: string | null;
  value?: unknown;
  headers?: Record<string, string>;
  /** Default: the definition's first topic. */
  topic?: string;
  /** Default 0: the partition ctx.state reads and writes. */
  partition?: number;
  /** Default: the record's index in the call. */
  offset?: string | number;
  timestamp?: number;
}

/** An emitted record, decoded as the invoke route shows it: text when UTF-8 (`data`: parsed when JSON), else base64. */
export interface TestEmit {
  topic: string;
  key: string | null;
  value: string | null;
  encoding?: "base64";
  headers: Record<string, string>;
  /** The value parsed as JSON, or undefined when it is not JSON. */
  data: unknown;
}

export interface TestResult {
  /** One per record, in order: `{ status: "ok" }`, `{ status: "failed", error: { name, message, code?, retriable } }` or `{ status: "skipped" }`. */
  outcomes: RecordOutcome[];
  /** What the records that succeeded emitted (failed records emit nothing, as in production). */
  emitted: TestEmit[];
  logs: { level: LogLevel; message: string }[];
}

/**
 * A function loaded into a real isolate, as a worker runs it (same sandbox, same limits), with no Kafka:
 * each `invoke` is one invocation over the given records. Its `state` is ctx.state, in memory, for the
 * test to seed and read.
 */
export class TestedFunction {
  readonly state = new TestState();

  private constructor(
    private readonly sandbox: FunctionSandbox,
    private readonly topic: string,
    private readonly order: InvocationOrder,
    /** Every line the function logged, shared with the sandbox's onLog. */
    private readonly logs: { level: LogLevel; message: string }[],
  ) {}

  /** @internal Use testFunction(). */
  static async load(code: string, options: TestFunctionOptions, nameHint: string): Promise<TestedFunction> {
    const logs: { level: LogLevel; message: string }[] = [];
    const create = (name: string, info?: { state: boolean; egress: string[]; memoryMb: number }) =>
      FunctionSandbox.create({
        code,
        memoryMb: info?.memoryMb ?? 128,
        env: options.env ?? {},
        function: { name: options.function?.name ?? name, version: options.function?.version ?? 1 },
        onLog: (level, message) => logs.push({ level, message }),
        egress: info?.egress ?? [],
        state: info?.state ?? false,
        fetch: options.fetch === undefined ? noNetwork : answeredBy(options.fetch),
      });
    // The definition's own settings (egress, state, memory) are known once it is loaded: load it again with them.
    const probe = await create(nameHint);
    const info = probe.describe();
    probe.dispose();
    const config = info.config as { egress?: string[]; state?: unknown; memoryMb?: number; ordering?: string };
    const sandbox = await create(info.name, { state: config.state !== undefined, egress: config.egress ?? [], memoryMb: config.memoryMb ?? 128 });
    return new TestedFunction(sandbox, info.topics[0]!, invocationOrder(config.ordering), logs);
  }

  /** Runs the handler once over `records` (handle: each record, in the definition's ordering; handleBatch: one call). */
  async invoke(records: readonly TestRecord[], options: { attempt?: number; timeoutMs?: number } = {}): Promise<TestResult> {
    const input = records.map((record, i) => this.#record(record, i));
    const partitions = new Set(input.map((r) => r.partition));
    if (partitions.size > 1) throw new EddyError("EDDY_TEST_PARTITIONS", "invoke(): one invocation holds records of one partition; call invoke() once per partition", { userError: true });
    const partition = input[0]?.partition ?? 0;
    const logsBefore = this.logs.length;
    const result = await this.sandbox.invoke(input, {
      attempt: options.attempt ?? 1,
      timeoutMs: options.timeoutMs ?? 30_000,
      order: this.order,
      state: { get: (key) => this.state.json(key, partition) },
    });
    for (const write of result.stateWrites ?? []) this.state.write(write.key, write.value, partition);
    return {
      outcomes: result.outcomes,
      emitted: result.emitted.map((e) => ({ topic: e.topic, key: e.key, ...decoded(e.value), headers: e.headers })),
      logs: this.logs.slice(logsBefore),
    };
  }

  /** Frees the isolate (it would be freed with the process anyway). */
  dispose(): void {
    this.sandbox.dispose();
  }

  #record(record: TestRecord, index: number): SandboxRecord {
    return {
      topic: record.topic ?? this.topic,
      partition: record.partition ?? 0,
      offset: String(record.offset ?? index),
      timestamp: record.timestamp ?? Date.now(),
      key: record.key ?? null,
      value: valueBytes(record.value),
      headers: { ...record.headers },
    };
  }
}

/**
 * Loads a function into a real isolate for a unit test, without Kafka or a running Eddy: from its file
 * (a path or file: URL, bundled as `eddy deploy` bundles it, with the folder's node_modules), or from
 * its imported definition (the file defineFunction was called in).
 *
 * @example
 * ```ts
 * import { testFunction } from "eddy/testing";
 * import orders from "../src/orders.js";
 *
 * const fn = await testFunction(orders, { fetch: async () => Response.json({ ok: true }) });
 * const { outcomes, emitted } = await fn.invoke([{ key: "o-1", value: { id: "o-1", total: 42 } }]);
 * expect(emitted[0].data).toEqual({ id: "o-1", total: 42 });
 * ```
 */
export async function testFunction(definitionOrPath: FunctionDefinition | string | URL, options: TestFunctionOptions = {}): Promise<TestedFunction> {
  const file = sourceFile(definitionOrPath);
  const code = await bundleEntryFile(file);
  const nameHint = typeof definitionOrPath === "object" && "name" in definitionOrPath ? definitionOrPath.name : "under-test";
  return TestedFunction.load(code, options, nameHint);
}

function sourceFile(definitionOrPath: FunctionDefinition | string | URL): string {
  if (definitionOrPath instanceof URL) return fileURLToPath(definitionOrPath);
  if (typeof definitionOrPath === "string") return definitionOrPath.startsWith("file:") ? fileURLToPath(definitionOrPath) : definitionOrPath;
  const definedAt = (definitionOrPath as unknown as Record<symbol, unknown>)[DEFINED_AT];
  if (typeof definedAt !== "string") {
    throw new EddyError("EDDY_TEST_NO_SOURCE", "testFunction(): cannot tell which file this definition comes from; pass the file's path instead, e.g. testFunction(new URL(\"../src/fn.ts\", import.meta.url))", { userError: true });
  }
  return definedAt.startsWith("file:") ? fileURLToPath(definedAt) : definedAt;
}

const noNetwork: SandboxFetcher = async (request) => ({
  ok: false,
  code: "EDDY_SANDBOX_FETCH_FAILED",
  message: `ctx.fetch: no network in a test: pass testFunction(…, { fetch }) to answer ${request.method} ${request.url}`,
  retriable: true,
});

/** ctx.fetch answered by the test's function, with standard Request and Response. */
function answeredBy(fetch: (request: Request) => Response | Promise<Response>): SandboxFetcher {
  return async (request) => {
    try {
      const method = request.method.toUpperCase();
      const body = request.body === null || method === "GET" || method === "HEAD" ? undefined : request.body;
      const response = await fetch(new Request(request.url, { method, headers: request.headers, body }));
      const answer: WireFetchResult = {
        ok: true,
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers],
        url: response.url || request.url,
        redirected: false,
        body: new Uint8Array(await response.arrayBuffer()),
      };
      return answer;
    } catch (error) {
      return { ok: false, code: "EDDY_SANDBOX_FETCH_FAILED", message: `ctx.fetch: the test's fetch threw: ${error instanceof Error ? error.message : String(error)}`, retriable: true };
    }
  };
}

function valueBytes(value: unknown): Uint8Array | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return value;
  return new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decoded(value: Uint8Array | null): Pick<TestEmit, "value" | "encoding" | "data"> {
  if (value === null) return { value: null, data: null };
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return { value: Buffer.from(value).toString("base64"), encoding: "base64", data: undefined };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  return { value: text, data };
}
