import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, runEddy, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, ensureTopic, eventually, produce, testKafka } from "../helpers/kafka.js";
import type { KafkaMessage } from "kafkajs";

const VALUE = `sk_live_${randomBytes(12).toString("hex")}`;
const NEW_VALUE = `sk_live_${randomBytes(12).toString("hex")}`;
const reversed = (s: string) => [...s].reverse().join("");
// At-least-once: a restart may hand the output a record twice, so counts are of distinct keys.
const byKey = { distinctBy: (m: KafkaMessage) => m.key?.toString() ?? "" };

/** Emits the secret reversed (so the test can check what the function saw without the value itself appearing anywhere). */
function secretEcho(name: string, topic: string, out: string): string {
  // "fail" is refused with NonRetriableError: dead-lettered at once. A retriable error would be dead-lettered only
  // with evidence of health, and a record behind it on its partition could then wait across the tests.
  return `import { defineFunction, NonRetriableError } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  async handle(event, ctx) {
    const key = ctx.env.API_KEY ?? "";
    ctx.log.info("has a key of " + key.length + " characters, region " + ctx.env.REGION);
    if (event.text() === "fail") throw new NonRetriableError("failed with a key of " + key.length + " characters");
    await ctx.emit(${JSON.stringify(out)}, { seen: [...key].reverse().join(""), region: ctx.env.REGION ?? null }, { key: event.key });
  },
});`;
}

function plain(name: string, topic: string, out: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  async handle(event, ctx) { await ctx.emit(${JSON.stringify(out)}, event.text(), { key: event.key }); },
});`;
}

/** Every record of a topic, as raw bytes (keys and values), from the beginning. */
async function rawTopic(topic: string): Promise<Buffer> {
  const admin = testKafka().admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const messages = await consumeAll(topic, total, { settleMs: 500 });
  return Buffer.concat(messages.flatMap((m) => [m.key ?? Buffer.alloc(0), m.value ?? Buffer.alloc(0)]));
}

describe("secrets and reserved topics on the real broker", () => {
  const prefix = `sec-${randomUUID().slice(0, 8)}`;
  const [name, topic, out] = ["sec", `${prefix}-in`, `${prefix}-out`];
  const [plainName, plainTopic, plainOut] = ["plain", `${prefix}-plain-in`, `${prefix}-plain-out`];
  const key1 = randomBytes(32).toString("base64");
  let dataDir: string;
  let eddy: EddyProcess | undefined;
  const seen: string[] = [];

  const start = async (secretKey: string) => {
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: dataDir, EDDY_TOPIC_PREFIX: `${prefix}.`, EDDY_SECRET_KEY: secretKey });
    return eddy;
  };
  /** Every answer a test reads is kept, so the last test can grep them all. */
  const api = async (method: string, route: string, body?: unknown) => {
    const answer = await eddy!.api(method, route, body);
    seen.push(JSON.stringify(answer.body));
    return answer;
  };

  beforeAll(async () => {
    dataDir = await tempDir("eddy-secrets");
    await Promise.all([ensureTopic(topic), ensureTopic(out), ensureTopic(plainTopic), ensureTopic(plainOut)]);
    await start(key1);
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it.each([
    ["eddy.functions", "Eddy's function registry"],
    [`${prefix}.functions`, "Eddy's function registry"],
    [`${prefix}.anything`, "belongs to Eddy"],
    ["__consumer_offsets", "internal to Kafka"],
  ])("refuses a function that consumes %s, naming topics.0", async (reserved, why) => {
    const answer = await api("POST", "/v1/functions", { source: plain("spy", reserved, "spy-out") });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details).toEqual([expect.objectContaining({ path: "topics.0", message: expect.stringContaining(why) })]);
  });

  it("gives the function its secret as ctx.env and shows only its name everywhere else", async () => {
    const deployed = await api("POST", "/v1/functions", { source: secretEcho(name, topic, out), env: { REGION: "eu" }, secrets: { API_KEY: VALUE } });
    expect(deployed.status).toBe(201);
    expect(deployed.body.secrets).toEqual(["API_KEY"]);
    // The same deploy again changes nothing: the secret's value is compared without being stored in clear.
    expect((await api("POST", "/v1/functions", { source: secretEcho(name, topic, out), env: { REGION: "eu" }, secrets: { API_KEY: VALUE } })).status).toBe(200);

    await produce(topic, [{ key: "a", value: "hello" }, { key: "b", value: "fail" }]);
    const [first] = await consumeAll(out, 1);
    expect(JSON.parse(first!.value!.toString())).toEqual({ seen: reversed(VALUE), region: "eu" });

    expect((await api("GET", `/v1/functions/${name}/secrets`)).body).toMatchObject({ secrets: ["API_KEY"] });
    const status = await api("GET", `/v1/functions/${name}`);
    expect(status.body.secrets).toEqual(["API_KEY"]);
    expect(status.body.config.env).toEqual({ REGION: "eu" });
    await api("GET", "/v1/functions");
    await api("GET", `/v1/functions/${name}/versions`);
    const dry = await api("POST", `/v1/functions/${name}/invoke`, { events: [{ key: "d", value: "dry" }] });
    expect(dry.body.emitted[0].value).toBe(JSON.stringify({ seen: reversed(VALUE), region: "eu" }));
    const failed = await api("POST", `/v1/functions/${name}/invoke`, { events: [{ value: "fail" }] });
    expect(failed.body.error.message).toBe(`failed with a key of ${VALUE.length} characters`);
    expect(await eventually(async () => (await api("GET", `/v1/functions/${name}/logs`)).body.lines.length >= 2)).toBe(true);
    seen.push(await (await fetch(`${eddy!.url}/metrics`)).text());
  });

  it("changes a secret without a new bundle, through the CLI, as a new version", async () => {
    const put = await runEddy(["secret", "put", name, "API_KEY"], { ...eddy!.env, API_KEY: NEW_VALUE });
    expect(put.stderr).toBe("");
    expect(put.stdout).toBe(`${name} v2: secret API_KEY set\n`);
    const ls = await runEddy(["secret", "ls", name], eddy!.env);
    expect(ls.stdout).toBe("API_KEY\n");
    seen.push(put.stdout, ls.stdout);
    await produce(topic, [{ key: "c", value: "after" }]);
    const after = (await consumeAll(out, 2, byKey)).find((m) => m.key?.toString() === "c");
    expect(JSON.parse(after!.value!.toString())).toEqual({ seen: reversed(NEW_VALUE), region: "eu" });
  });

  it("keeps secrets across a restart, and with another key stops only the functions whose secrets it cannot read", async () => {
    expect((await api("POST", "/v1/functions", { source: plain(plainName, plainTopic, plainOut) })).status).toBe(201);
    await eddy!.stop();
    await start(key1);
    await produce(topic, [{ key: "d", value: "restarted" }]);
    const restarted = (await consumeAll(out, 3, byKey)).find((m) => m.key?.toString() === "d");
    expect(JSON.parse(restarted!.value!.toString()).seen).toBe(reversed(NEW_VALUE));
    seen.push(eddy!.logs);
    await eddy!.stop();

    await start(randomBytes(32).toString("base64"));
    expect(eddy!.logs).toContain(`cannot read the secrets of '${name}'`);
    const status = await api("GET", `/v1/functions/${name}`);
    expect(status.body).toMatchObject({ state: "failing", replicas: { desired: 0, ready: 0 } });
    expect(status.body.problem).toMatch(/sealed with another secret key/);
    const put = await api("PUT", `/v1/functions/${name}/secrets/OTHER`, { value: "x" });
    expect(put.status).toBe(409);
    // The function without secrets runs.
    await produce(plainTopic, [{ key: "p", value: "plain" }]);
    expect(new Set((await consumeAll(plainOut, 1)).map((m) => m.value!.toString()))).toEqual(new Set(["plain"]));
    seen.push(eddy!.logs);
  });

  it("never lets the value out: not in an answer, a log line, a metric, nor the registry topic's bytes", async () => {
    const registry = await rawTopic(`${prefix}.functions`);
    for (const value of [VALUE, NEW_VALUE]) {
      for (const form of [value, Buffer.from(value).toString("base64"), Buffer.from(value).toString("hex")]) {
        expect(registry.includes(form), `registry holds ${form.slice(0, 12)}…`).toBe(false);
        for (const text of seen) expect(text.includes(form), `an answer or log holds ${form.slice(0, 12)}…`).toBe(false);
      }
    }
    expect(seen.length).toBeGreaterThan(10);
  });
});
