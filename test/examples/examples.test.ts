import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Partitioners } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "../helpers/eddy-process.js";
import { testKafka } from "../helpers/kafka.js";
import { committedOffsets, ensureTopic, eventually, LiveReader, ONE_REPLICA, startEddy, stopEddy, unique, waitReady } from "../dispatcher/support.js";

const EXAMPLES = path.resolve("functions/examples");

/** A record to produce: `value` goes as JSON, null as a tombstone; `partition` overrides the key's. */
interface Input {
  key: string | null;
  value: unknown;
  partition?: number;
}

/** A record read back: its key, and its value parsed as JSON (null for a tombstone). */
interface Output {
  key: string | null;
  value: any;
}

async function send(topic: string, records: Input[]): Promise<void> {
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = records.map((r) => ({ key: r.key, value: r.value === null ? null : JSON.stringify(r.value), ...(r.partition === undefined ? {} : { partition: r.partition }) }));
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

function outputs(reader: LiveReader): Output[] {
  return reader.messages.map((m) => ({ key: m.key?.toString() ?? null, value: m.value === null ? null : JSON.parse(m.value.toString()) }));
}

/** Values by key, each key's in the order read (its partition's order). */
function byKey(records: Output[]): Record<string, unknown[]> {
  const grouped: Record<string, unknown[]> = {};
  for (const { key, value } of records) (grouped[String(key)] ??= []).push(value);
  return grouped;
}

/** Reads until `count` records arrived, then a while longer so that one too many shows; returns them all. */
async function readExactly(reader: LiveReader, count: number, timeoutMs = 30_000): Promise<Output[]> {
  await reader.waitFor(count, timeoutMs, 1_500);
  return outputs(reader);
}

/** Every partition of `topic` committed to its end by `groupId`. */
async function committedToEnd(groupId: string, topic: string): Promise<boolean> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), committedOffsets(groupId, topic)]);
    return ends.every((end) => BigInt(end.high) === 0n || committed.get(end.partition) === BigInt(end.high));
  } finally {
    await admin.disconnect();
  }
}

const minute = (hh: number, mm: number, ss = 0, ms = 0) => Date.UTC(2025, 5, 1, hh, mm, ss, ms);
const iso = (time: number) => new Date(time).toISOString();

describe("the examples in functions/examples on the real broker", () => {
  const prefix = unique("examples");
  let eddy: EddyProcess;
  const dlts: LiveReader[] = [];

  beforeAll(async () => {
    eddy = await startEddy(prefix);
  });

  afterAll(async () => {
    await Promise.all(dlts.map((reader) => reader.stop()));
    await stopEddy(eddy, prefix);
  });

  /**
   * Deploys an example from its file, under a name and on topics of this test's own (the examples'
   * names and topics are fixed in their code; the deploy body's `config` overrides them).
   */
  async function deployExample(file: string, name: string, topics: string[], env: Record<string, string> = {}): Promise<void> {
    const source = await readFile(path.join(EXAMPLES, file), "utf8");
    const answer = await eddy.api("POST", "/v1/functions", { source, filename: file, config: { name, topics, ...ONE_REPLICA }, env });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    await waitReady(eddy, name);
  }

  /** The key's state from the state route; undefined on 404. */
  async function stateOf(name: string, key: string): Promise<unknown> {
    const answer = await eddy.api("GET", `/v1/functions/${name}/state/${encodeURIComponent(key)}`);
    if (answer.status === 404) return undefined;
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.value;
  }

  /** Several keys' state, polled until it equals `expected` (or the time is up); returns the last read. */
  async function statesOf(name: string, expected: Record<string, unknown>, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    let last: Record<string, unknown> = {};
    const read = async () => Object.fromEntries(await Promise.all(Object.keys(expected).map(async (key) => [key, await stateOf(name, key)] as const)));
    await eventually(async () => {
      last = await read();
      try {
        expect(last).toEqual(expected);
        return true;
      } catch {
        return false;
      }
    }, timeoutMs, 300);
    return last;
  }

  /** The function's dead-letter topic, read from its start. */
  async function deadLetters(name: string): Promise<LiveReader> {
    const reader = await LiveReader.start(`${name}.dlt`, 1);
    dlts.push(reader);
    return reader;
  }

  const dltMessages = (reader: LiveReader) =>
    reader.messages.map((m) => ({ key: m.key?.toString() ?? null, error: m.headers?.["eddy-dlt-error-message"]?.toString() }));

  it("holds one function file per example, and nothing else that `eddy start --deploy` would pick up", async () => {
    const files = (await readdir(EXAMPLES)).filter((file) => /\.(ts|js|mts|mjs)$/.test(file)).sort();
    expect(files).toEqual([
      "account-balances.ts",
      "clicks-per-minute.ts",
      "customer-cdc.ts",
      "customer-enrichment.ts",
      "email-sender.ts",
      "order-confirmation.ts",
      "order-summaries.ts",
    ]);
  });

  it("event notification: each order becomes an email request that email-sender handles; an order without email is dead-lettered", async () => {
    const [confirmation, sender, orders, emails] = [unique("order-confirmation"), unique("email-sender"), unique("orders"), unique("emails")];
    await ensureTopic(orders, 3);
    await ensureTopic(emails, 3);
    const reader = await LiveReader.start(emails, 3);
    await deployExample("order-confirmation.ts", confirmation, [orders], { OUT_TOPIC: emails });
    await deployExample("email-sender.ts", sender, [emails]);
    const dlt = await deadLetters(confirmation);

    const ids = Array.from({ length: 12 }, (_, i) => `o-${i + 1}`);
    await send(orders, ids.map((id) => ({ key: id, value: { id, email: id === "o-7" ? "" : `${id}@example.com` } })));

    const expected = ids.filter((id) => id !== "o-7").map((id) => ({ key: id, value: { to: `${id}@example.com`, orderId: id } }));
    const sortById = (list: Output[]) => [...list].sort((a, b) => String(a.key).localeCompare(String(b.key)));
    expect(sortById(await readExactly(reader, 11))).toEqual(sortById(expected));
    await dlt.waitFor(1, 30_000, 500);
    expect(dltMessages(dlt)).toEqual([{ key: "o-7", error: "order without email" }]);

    const sent = async () =>
      ((await eddy.api("GET", `/v1/functions/${sender}/logs?limit=1000`)).body.lines as { message: string }[])
        .map((line) => line.message)
        .filter((message) => message.startsWith("sending the confirmation"))
        .sort();
    await eventually(async () => (await sent()).length >= 11, 15_000);
    expect(await sent()).toEqual(expected.map(({ key }) => `sending the confirmation of ${key} to ${key}@example.com`).sort());
    await reader.stop();
  });

  it("event-carried state transfer: orders go out with the customer view built from the customers topic; an unknown customer is waited for, then left out", async () => {
    const [name, customers, orders, out] = [unique("customer-enrichment"), unique("customers"), unique("customer-orders"), unique("orders-enriched")];
    await ensureTopic(customers, 3);
    await ensureTopic(orders, 3);
    const reader = await LiveReader.start(out, 3);
    await deployExample("customer-enrichment.ts", name, [customers, orders], { CUSTOMERS_TOPIC: customers, OUT_TOPIC: out, CUSTOMER_WAIT_MS: "1000", CUSTOMER_WAIT_ATTEMPTS: "3" });

    const customer = (i: number, tier = i % 2 === 0 ? "gold" : "standard") => ({ id: `c-${i}`, name: `Customer ${i}`, email: `c${i}@example.com`, tier, address: `${i} Main St` });
    const view = (i: number, tier?: string) => {
      const { name: customerName, email, tier: t } = customer(i, tier);
      return { name: customerName, email, tier: t };
    };
    await send(customers, [1, 2, 3, 4, 5, 6].map((i) => ({ key: `c-${i}`, value: customer(i) })));
    // The view holds only what enrichment needs (no address).
    const views = Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`c-${i}`, view(i)]));
    expect(await statesOf(name, views)).toEqual(views);

    const order = (i: number | string, j: number) => ({ orderId: `o-${i}-${j}`, customerId: `c-${i}`, total: 1_000 + 10 * j });
    const known = [1, 2, 3, 4, 5, 6].flatMap((i) => [1, 2, 3].map((j) => order(i, j)));
    // c-7's record comes right after its order: the order waits for it. c-ghost never comes.
    await send(orders, [...known, order(7, 1), order("ghost", 1)].map((o) => ({ key: o.customerId, value: o })));
    await send(customers, [{ key: "c-7", value: customer(7) }]);

    const expected: Output[] = [
      ...known.map((o) => ({ key: o.customerId, value: { ...o, customer: view(Number(o.customerId.slice(2))) } })),
      { key: "c-7", value: { ...order(7, 1), customer: view(7) } },
      { key: "c-ghost", value: { ...order("ghost", 1), customer: null } },
    ];
    const sortByOrder = (list: Output[]) => [...list].sort((a, b) => a.value.orderId.localeCompare(b.value.orderId));
    expect(sortByOrder(await readExactly(reader, expected.length))).toEqual(sortByOrder(expected));

    // c-1 moves up a tier; c-2 is deleted (a tombstone): later orders show the change.
    await send(customers, [
      { key: "c-1", value: customer(1, "platinum") },
      { key: "c-2", value: null },
    ]);
    expect(await statesOf(name, { "c-1": view(1, "platinum"), "c-2": undefined })).toEqual({ "c-1": view(1, "platinum") });
    await send(orders, [order(1, 4), order(2, 4)].map((o) => ({ key: o.customerId, value: o })));
    expected.push({ key: "c-1", value: { ...order(1, 4), customer: view(1, "platinum") } }, { key: "c-2", value: { ...order(2, 4), customer: null } });
    expect(sortByOrder(await readExactly(reader, expected.length))).toEqual(sortByOrder(expected));
    await reader.stop();
  });

  it("event sourcing: balances fold each account's events exactly once; overdrafts and bad events are dead-lettered and change nothing", async () => {
    const [name, events, out] = [unique("account-balances"), unique("account-events"), unique("balance-changes")];
    await ensureTopic(events, 3);
    const reader = await LiveReader.start(out, 3);
    await deployExample("account-balances.ts", name, [events], { OUT_TOPIC: out });
    const dlt = await deadLetters(name);

    const d = (amount: number) => ({ type: "deposited", amount });
    const w = (amount: number) => ({ type: "withdrawn", amount });
    const history: Record<string, object[]> = {
      "a-1": [d(10_000), w(2_500), w(8_000), d(1_500), w(9_000)],
      "a-2": [d(5_000), w(5_000), w(1), d(250)],
      "a-3": [d(100), d(200), d(300), w(50), w(550)],
      "a-4": [d(99_999), w(12_345), { type: "refunded", amount: 5 }, d(1), w(87_655)],
      "a-5": Array.from({ length: 10 }, () => d(100)),
    };
    // Interleaved across accounts, in each account's order.
    const input: Input[] = [];
    for (let i = 0; i < 10; i++) for (const [key, list] of Object.entries(history)) if (list[i]) input.push({ key, value: list[i] });
    await send(events, input);

    const balances: Record<string, number[]> = {
      "a-1": [10_000, 7_500, 9_000, 0],
      "a-2": [5_000, 0, 250],
      "a-3": [100, 300, 600, 550, 0],
      "a-4": [99_999, 87_654, 87_655, 0],
      "a-5": [100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000],
    };
    const got = byKey(await readExactly(reader, 26)) as Record<string, { accountId: string; balance: number; version: number }[]>;
    expect(Object.fromEntries(Object.entries(got).map(([key, list]) => [key, list.map((c) => c.balance)]))).toEqual(balances);
    expect(got["a-1"]![2]).toEqual({ accountId: "a-1", type: "deposited", amount: 1_500, balance: 9_000, version: 3 });

    await dlt.waitFor(3, 30_000, 500);
    expect(dltMessages(dlt).sort((a, b) => a.key!.localeCompare(b.key!))).toEqual([
      { key: "a-1", error: "account a-1: overdraft: withdrawing 8000 from a balance of 7500" },
      { key: "a-2", error: "account a-2: overdraft: withdrawing 1 from a balance of 0" },
      { key: "a-4", error: 'account a-4: expected type "deposited" or "withdrawn", got "refunded"' },
    ]);
    const accounts = {
      "a-1": { balance: 0, version: 4 },
      "a-2": { balance: 250, version: 3 },
      "a-3": { balance: 0, version: 5 },
      "a-4": { balance: 0, version: 4 },
      "a-5": { balance: 1_000, version: 10 },
    };
    expect(await statesOf(name, accounts)).toEqual(accounts);
    await reader.stop();
  });

  it("CQRS read model: order summaries served by the state route, unchanged by a replay from the earliest offset", async () => {
    const [name, events] = [unique("order-summaries"), unique("order-events")];
    await ensureTopic(events, 3);
    await deployExample("order-summaries.ts", name, [events]);
    const dlt = await deadLetters(name);

    const at = (m: number) => iso(minute(9, m));
    const created = (customerId: string, m: number) => ({ type: "created", customerId, at: at(m) });
    const added = (sku: string, quantity: number, unitPrice: number) => ({ type: "item-added", sku, quantity, unitPrice });
    const history: Record<string, (object | null)[]> = {
      "o-1": [created("c-1", 0), added("A", 2, 1_250), added("B", 1, 499), added("A", 1, 1_250), { type: "shipped", at: at(30), carrier: "DHL" }],
      "o-2": [created("c-2", 1), added("C", 5, 100), { type: "item-removed", sku: "C" }, added("D", 1, 2_000), { type: "cancelled", at: at(20), reason: "customer asked" }],
      "o-3": [created("c-1", 2), added("A", 1, 1_250), { type: "gift-wrapped" }, added("E", 2, 300)],
      // An item before the order exists: dead-lettered; the order then starts with its creation.
      "o-4": [added("X", 1, 1), created("c-3", 3), added("F", 1, 999)],
      // Purged: the tombstone removes the summary.
      "o-5": [created("c-4", 4), added("A", 1, 1_250), null],
      "o-6": [created("c-5", 5), created("c-5", 6), { type: "shipped", at: at(40), carrier: "UPS" }],
    };
    const input: Input[] = [];
    for (let i = 0; i < 5; i++) for (const [key, list] of Object.entries(history)) if (i < list.length) input.push({ key, value: list[i] });
    await send(events, input);

    const offset = expect.stringMatching(/^\d+$/);
    const expected = {
      "o-1": { orderId: "o-1", customerId: "c-1", status: "shipped", lines: { A: { quantity: 3, unitPrice: 1_250 }, B: { quantity: 1, unitPrice: 499 } }, itemCount: 4, total: 4_249, createdAt: at(0), shippedAt: at(30), carrier: "DHL", appliedOffset: offset },
      "o-2": { orderId: "o-2", customerId: "c-2", status: "cancelled", lines: { D: { quantity: 1, unitPrice: 2_000 } }, itemCount: 1, total: 2_000, createdAt: at(1), cancelledAt: at(20), cancelReason: "customer asked", appliedOffset: offset },
      "o-3": { orderId: "o-3", customerId: "c-1", status: "open", lines: { A: { quantity: 1, unitPrice: 1_250 }, E: { quantity: 2, unitPrice: 300 } }, itemCount: 3, total: 1_850, createdAt: at(2), appliedOffset: offset },
      "o-4": { orderId: "o-4", customerId: "c-3", status: "open", lines: { F: { quantity: 1, unitPrice: 999 } }, itemCount: 1, total: 999, createdAt: at(3), appliedOffset: offset },
      "o-5": undefined,
      "o-6": { orderId: "o-6", customerId: "c-5", status: "shipped", lines: {}, itemCount: 0, total: 0, createdAt: at(5), shippedAt: at(40), carrier: "UPS", appliedOffset: offset },
    };
    const before = await statesOf(name, expected);
    expect(before).toEqual(expected);
    await dlt.waitFor(2, 30_000, 500);
    expect(dltMessages(dlt).sort((a, b) => a.key!.localeCompare(b.key!))).toEqual([
      { key: "o-4", error: "order o-4: item-added before created" },
      { key: "o-6", error: "order o-6: created twice" },
    ]);

    // Every event again, against summaries that include them: each is skipped by its offset.
    const replay = await eddy.api("POST", `/v1/functions/${name}/replay`, { from: "earliest" });
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    expect(await eventually(() => committedToEnd(`${prefix}.${name}`, events), 60_000, 300), "the replay reached the end").toBe(true);
    expect(await statesOf(name, before, 5_000)).toEqual(before);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(dlt.count, "no event dead-lettered again").toBe(2);
  });

  it("change data capture: Debezium changes become rows and tombstones, with repeated, late and source tombstone records dropped", async () => {
    const [name, source, out] = [unique("customer-cdc"), unique("shop.public.customers"), unique("customers")];
    await ensureTopic(source, 3);
    const reader = await LiveReader.start(out, 3);
    await deployExample("customer-cdc.ts", name, [source], { OUT_TOPIC: out });

    const row = (id: string, tier = "standard", customerName = `Customer ${id}`) => ({ id, name: customerName, email: `${id}@example.com`, tier });
    const sourceInfo = (lsn: number) => ({ version: "2.7.0.Final", connector: "postgresql", name: "shop", ts_ms: 1_750_000_000_000 + lsn, snapshot: "false", db: "shop", schema: "public", table: "customers", txId: lsn, lsn });
    const change = (op: string, before: object | null, after: object | null, lsn: number) => ({ before, after, op, source: sourceInfo(lsn), ts_ms: 1_750_000_000_500 + lsn });
    const key = (id: string) => JSON.stringify({ id });
    const input: Input[] = [
      { key: key("c-1"), value: change("r", null, row("c-1"), 1_000) },
      { key: key("c-2"), value: change("r", null, row("c-2"), 1_000) },
      { key: key("c-3"), value: change("r", null, row("c-3"), 1_000) },
      { key: key("c-4"), value: change("c", null, row("c-4"), 1_100) },
      { key: key("c-1"), value: change("u", row("c-1"), row("c-1", "gold"), 1_200) },
      { key: key("c-2"), value: change("u", row("c-2"), row("c-2", "standard", "Renamed"), 1_300) },
      { key: key("c-3"), value: change("d", row("c-3"), null, 1_400) },
      { key: key("c-3"), value: null }, // Debezium's tombstone after a delete
      { key: key("c-1"), value: change("u", row("c-1"), row("c-1", "gold"), 1_200) }, // sent again after a connector restart
      { key: key("c-2"), value: change("u", row("c-2"), row("c-2", "stale"), 1_250) }, // older than what c-2 has
      // With value.converter.schemas.enable=true: the same change inside { schema, payload }.
      { key: key("c-4"), value: { schema: { type: "struct", name: "shop.public.customers.Envelope" }, payload: change("u", row("c-4"), row("c-4", "gold"), 1_500) } },
      { key: key("c-3"), value: change("u", row("c-3"), row("c-3", "late"), 1_350) }, // before the delete: the row stays deleted
      { key: key("c-3"), value: change("c", null, row("c-3", "returning"), 1_600) },
      { key: null, value: change("t", null, null, 1_700) }, // a truncate: not forwarded
    ];
    await send(source, input);

    expect(byKey(await readExactly(reader, 9))).toEqual({
      "c-1": [row("c-1"), row("c-1", "gold")],
      "c-2": [row("c-2"), row("c-2", "standard", "Renamed")],
      "c-3": [row("c-3"), null, row("c-3", "returning")],
      "c-4": [row("c-4"), row("c-4", "gold")],
    });
    // Each row's last applied position: c-2 kept 1300 over the late 1250, c-3 its re-insert over the delete.
    const versions = {
      [key("c-1")]: { lsn: 1_200, ts: 1_750_000_001_200, deleted: false },
      [key("c-2")]: { lsn: 1_300, ts: 1_750_000_001_300, deleted: false },
      [key("c-3")]: { lsn: 1_600, ts: 1_750_000_001_600, deleted: false },
      [key("c-4")]: { lsn: 1_500, ts: 1_750_000_001_500, deleted: false },
    };
    expect(await statesOf(name, versions)).toEqual(versions);
    await reader.stop();
  });

  it("stream aggregation: clicks per page per minute, emitted when the partition's stream time passes the window, late clicks dropped", async () => {
    const [name, clicks, out] = [unique("clicks-per-minute"), unique("clicks"), unique("clicks-per-minute-out")];
    await ensureTopic(clicks, 2);
    const reader = await LiveReader.start(out, 3);
    await deployExample("clicks-per-minute.ts", name, [clicks], { OUT_TOPIC: out });
    const dlt = await deadLetters(name);

    // Partitions chosen by hand: /home and /pricing share partition 0 (and its stream time), /docs and /blog partition 1.
    const click = (page: string, partition: number, at: number | string) => ({ key: page, partition, value: { page, at: typeof at === "number" ? iso(at) : at } });
    await send(clicks, [
      click("/home", 0, minute(12, 0, 5)),
      click("/pricing", 0, minute(12, 0, 10)),
      click("/home", 0, minute(12, 0, 20)),
      click("/docs", 1, minute(12, 0, 1)),
      click("/home", 0, minute(12, 0, 59, 999)),
      click("/pricing", 0, minute(12, 0, 30)),
      click("/docs", 1, minute(12, 0, 2)),
      click("/docs", 1, minute(12, 0, 3)),
      click("/docs", 1, minute(12, 0, 4)),
      click("/home", 0, minute(12, 1)), // closes 12:00 in partition 0
      click("/pricing", 0, minute(11, 59, 50)), // late
      click("/pricing", 0, minute(12, 1, 10)),
      click("/bad", 1, "not a time"), // dead-lettered
      click("/pricing", 0, minute(12, 1, 40)),
      click("/pricing", 0, minute(12, 0, 45)), // late
      { key: "/home", partition: 0, value: { page: "/home", at: minute(12, 3) } }, // epoch ms; closes 12:01 in partition 0
      click("/docs", 1, minute(12, 2)), // closes 12:00 in partition 1
      click("/blog", 1, minute(12, 2, 30)),
    ]);

    const window = (page: string, mm: number, count: number) => ({ page, windowStart: iso(minute(12, mm)), windowEnd: iso(minute(12, mm + 1)), count });
    expect(byKey(await readExactly(reader, 5))).toEqual({
      "/home": [window("/home", 0, 3), window("/home", 1, 1)],
      "/pricing": [window("/pricing", 0, 2), window("/pricing", 1, 2)],
      "/docs": [window("/docs", 0, 4)],
    });
    // The open windows, and each partition's stream time; /pricing has no open window since 12:01 closed.
    const open = {
      "/home": { windowStart: minute(12, 3), count: 1 },
      "/docs": { windowStart: minute(12, 2), count: 1 },
      "/blog": { windowStart: minute(12, 2), count: 1 },
      "stream-time:0": { windowStart: minute(12, 3), pages: ["/home"], late: 2 },
      "stream-time:1": { windowStart: minute(12, 2), pages: ["/docs", "/blog"], late: 0 },
    };
    expect(await statesOf(name, open)).toEqual(open);
    expect(await stateOf(name, "/pricing")).toBeUndefined();
    await dlt.waitFor(1, 30_000, 500);
    expect(dltMessages(dlt)).toEqual([{ key: "/bad", error: '/bad: at: expected an ISO time or epoch milliseconds, got "not a time"' }]);
    await reader.stop();
  });
});
