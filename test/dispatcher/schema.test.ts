import { mkdtemp, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runtime/package-root.js";
import { bundleEntryFile } from "../../runtime/sandbox/bundler.js";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { ensureTopic, LiveReader, ONE_REPLICA, produceMessages, startEddy, stopEddy, unique, waitReady } from "./support.js";

describe("schema on the real broker", () => {
  const prefix = unique("schema");
  let eddy: EddyProcess;
  // The function file sits under this checkout's node_modules, so that `zod` resolves as in a user's project.
  const dir = mkdtemp(path.join(packageRoot(), "node_modules", ".eddy-schema-it-"));

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });
  afterAll(async () => {
    await stopEddy(eddy, prefix);
    await rm(await dir, { recursive: true, force: true });
  });

  it("dead-letters a record that does not match at once, with the issue named, and runs the others", async () => {
    const [name, topic] = [unique("typed"), unique("typed-in")];
    const out = `${name}-out`;
    await ensureTopic(topic, 1);
    const file = path.join(await dir, "typed.ts");
    await writeFile(
      file,
      `import { z } from "zod";
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  startFrom: "earliest",
  schema: { value: z.object({ sku: z.string(), quantity: z.number().int().positive() }) },
  async handle(event, ctx) {
    await ctx.emit(${JSON.stringify(out)}, { sku: event.data.sku, twice: event.data.quantity * 2 }, { key: event.key });
  },
});`,
    );
    const deployed = await eddy.api("POST", "/v1/functions", { bundle: await bundleEntryFile(file), config: ONE_REPLICA });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    const [results, deadLetters] = await Promise.all([LiveReader.start(out, 1), LiveReader.start(`${name}.dlt`, 1)]);
    await waitReady(eddy, name);
    await produceMessages(topic, [
      { key: "a", value: JSON.stringify({ sku: "apple", quantity: 2 }) },
      { key: "b", value: JSON.stringify({ sku: "pear", quantity: 0 }) },
      { key: "c", value: JSON.stringify({ sku: "plum", quantity: 1 }) },
    ]);
    await results.waitFor(2, 30_000);
    await deadLetters.waitFor(1, 30_000, 1_000);
    expect(results.json()).toEqual([
      { sku: "apple", twice: 4 },
      { sku: "plum", twice: 2 },
    ]);
    expect(deadLetters.count).toBe(1);
    const headers = Object.fromEntries(Object.entries(deadLetters.messages[0]!.headers ?? {}).map(([k, v]) => [k, String(v)]));
    expect(deadLetters.messages[0]!.key!.toString()).toBe("b");
    expect(headers["eddy-dlt-error-name"]).toBe("TypeError");
    expect(headers["eddy-dlt-error-message"]).toMatch(/^schema: .* does not match: value\.quantity: /);
    // Not retried: a retry cannot make the record match.
    expect(headers["eddy-dlt-attempts"]).toBe("1");
    await Promise.all([results.stop(), deadLetters.stop()]);
  }, 90_000);
});
