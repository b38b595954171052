import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { ensureTopic, eventually, produce } from "../helpers/kafka.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** Debian's chromium, which `.ci/run` installs; CHROMIUM_PATH points elsewhere. */
const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string => p !== undefined && existsSync(p));
/** `EDDY_SCREENSHOTS=1 npx vitest run test/dashboard` refreshes the README's pictures in docs/images/. */
const SCREENSHOTS = process.env.EDDY_SCREENSHOTS === "1" ? path.join(ROOT, "docs", "images") : undefined;
const WAIT_MS = 30_000;

function source(name: string, topic: string, out: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  async handle(event, ctx) {
    ctx.log.info("shouting " + event.key);
    await ctx.emit(${JSON.stringify(out)}, event.text().toUpperCase(), { key: event.key });
  },
});`;
}

describe("the web dashboard in headless Chromium, against eddy start on the real broker", () => {
  const prefix = `dash-${randomUUID().slice(0, 8)}`;
  const name = `shout-${prefix.slice(5)}`;
  const [topic, out] = [`${prefix}-in`, `${prefix}-out`];
  let eddy: EddyProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;

  const cell = (field: string) => page.$eval(`tr[data-function="${name}"] [data-field="${field}"]`, (el) => el.textContent ?? "");
  const confirmAndClick = async (action: string) => {
    await page.click(`button[data-action="${action}"]`);
    await page.waitForSelector('dialog[data-testid="confirm"][open] button[data-testid="confirm-yes"]', { timeout: WAIT_MS });
    await page.click('dialog[data-testid="confirm"] button[data-testid="confirm-yes"]');
  };
  const stateIs = (state: string) =>
    page.waitForFunction((s) => document.querySelector('[data-testid="function-page"] [data-field="state"]')?.textContent?.includes(s) === true, { timeout: WAIT_MS }, state);
  const screenshot = async (file: string) => {
    if (SCREENSHOTS === undefined) return;
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, file), fullPage: true });
  };

  beforeAll(async () => {
    if (CHROMIUM === undefined) throw new Error("no Chromium: install Debian's chromium package (.ci/run does) or set CHROMIUM_PATH");
    await Promise.all([ensureTopic(topic), ensureTopic(out)]);
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-dashboard"), EDDY_TOPIC_PREFIX: `${prefix}.` });
    expect((await eddy.api("POST", "/v1/functions", { source: source(name, topic, out) })).status).toBe(201);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
  });
  afterAll(async () => {
    await browser?.close();
    await eddy?.stop();
  });

  it("says clearly that a wrong token was refused, instead of a blank page", async () => {
    await page.goto(`${eddy!.url}/#token=not-the-token`);
    const message = await page.waitForSelector('[data-testid="signin-error"]', { visible: true, timeout: WAIT_MS });
    expect(await message!.evaluate((el) => el.textContent)).toMatch(/refused|401/i);
    expect(await page.$("#token-form")).not.toBeNull();
  });

  it("signs in, lists the function with its state, and shows records processed as they arrive, without a reload", async () => {
    await page.goto(`${eddy!.url}/#token=${encodeURIComponent(eddy!.token)}`);
    await page.waitForSelector(`tr[data-function="${name}"]`, { timeout: WAIT_MS });
    // The token left the address bar (the page keeps it in sessionStorage).
    expect(await page.evaluate(() => location.href)).not.toContain(eddy!.token);
    await page.waitForFunction((n) => document.querySelector(`tr[data-function="${n}"] [data-field="state"]`)?.textContent?.includes("running"), { timeout: WAIT_MS }, name);
    expect(await cell("processed")).toBe("0");

    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    await produce(topic, Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, value: `hello ${i}` })));
    await page.waitForFunction(
      (n) => Number(document.querySelector(`tr[data-function="${n}"] [data-field="processed"]`)?.textContent) >= 25,
      { timeout: WAIT_MS },
      name,
    );
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  });

  it("pauses the function from its page, shows it paused, and resumes it", async () => {
    await page.click(`tr[data-function="${name}"] [data-field="name"] a`);
    await page.waitForSelector('[data-testid="function-page"]', { timeout: WAIT_MS });
    await confirmAndClick("pause");
    await stateIs("paused");
    expect((await eddy!.api("GET", `/v1/functions/${name}`)).body.state).toBe("paused");
    await confirmAndClick("resume");
    await stateIs("running");
    expect((await eddy!.api("GET", `/v1/functions/${name}`)).body.state).toBe("running");
  });

  it("runs a dry run and shows the record it would emit", async () => {
    await page.$eval("#dry-run-input", (el) => ((el as HTMLTextAreaElement).value = '{ "key": "k1", "value": "dry and quiet" }'));
    await page.click('button[data-action="invoke"]');
    const emitted = await page.waitForSelector('[data-testid="dry-run-result"] [data-testid="emitted"]', { timeout: WAIT_MS });
    const text = await emitted!.evaluate((el) => el.textContent ?? "");
    expect(text).toContain(out);
    expect(text).toContain("DRY AND QUIET");
    // The live log follows the function: the dry run is not consumed, but the records of the earlier test were logged.
    await page.waitForFunction(() => document.querySelector('[data-testid="log"]')?.textContent?.includes("shouting"), { timeout: WAIT_MS });
    if (SCREENSHOTS !== undefined) {
      // For the README's picture only: half a minute of traffic, so that the charts have a few samples to draw.
      for (let second = 0; second < 30; second++) {
        await produce(topic, Array.from({ length: 20 + second * 5 }, (_, i) => ({ key: `s${second}-${i}`, value: "picture" })));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot("dashboard-function.png");
      await page.goto(`${eddy!.url}/#/`);
      await page.waitForSelector(`tr[data-function="${name}"] [data-field="sparkline"] svg *`, { timeout: WAIT_MS });
      await screenshot("dashboard-functions.png");
    }
  });

  it("lets a read-only token see everything but change nothing", async () => {
    const created = await eddy!.api("POST", "/v1/tokens", { scope: "read", name: "dashboard viewer" });
    expect(created.status).toBe(201);
    const viewer = await browser!.newPage();
    try {
      await viewer.goto(`${eddy!.url}/#token=${encodeURIComponent(created.body.token)}`);
      await viewer.waitForSelector(`tr[data-function="${name}"] [data-field="name"] a`, { timeout: WAIT_MS });
      await viewer.click(`tr[data-function="${name}"] [data-field="name"] a`);
      const pause = await viewer.waitForSelector('button[data-action="pause"]', { timeout: WAIT_MS });
      expect(await pause!.evaluate((el) => (el as HTMLButtonElement).disabled)).toBe(true);
      expect(await viewer.$eval('button[data-action="invoke"]', (el) => (el as HTMLButtonElement).disabled)).toBe(true);
    } finally {
      await viewer.close();
    }
  });

  it("shows a record its partition waits behind, and dead-letters it from the function page after confirmation", async () => {
    const [stuckName, stuckTopic] = [`stuck-${prefix.slice(5)}`, `${prefix}-stuck-in`];
    await ensureTopic(stuckTopic, 1);
    const deployed = await eddy!.api("POST", "/v1/functions", {
      source: `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(stuckName)},
  topics: [${JSON.stringify(stuckTopic)}],
  retry: { maxAttempts: 2, backoff: { initialMs: 50, multiplier: 2, jitter: "none" } },
  circuitBreaker: { consecutiveFailures: 2, openMs: 300, maxOpenMs: 600 },
  async handle(event) {
    throw new Error("the downstream says 503 for " + event.key);
  },
});`,
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    await produce(stuckTopic, [{ key: "only", value: "x" }]);
    await page.goto(`${eddy!.url}/#/functions/${stuckName}`);
    const row = await page.waitForSelector('.stuck-record button[data-action="dead-letter"]', { timeout: 60_000 });
    expect(await page.$eval(".stuck-record", (el) => el.textContent ?? "")).toContain(`${stuckTopic}/0@0`);
    expect(await page.$eval(".stuck-record", (el) => el.textContent ?? "")).toContain("the downstream says 503 for only");
    expect(row).not.toBeNull();
    await confirmAndClick("dead-letter");
    await page.waitForFunction(() => document.querySelector(".operation-result")?.textContent?.includes("with its last error") === true, { timeout: WAIT_MS });
    // The record is gone from the partition's way: the list empties once the replica reports again.
    await page.waitForFunction(() => document.querySelector(".stuck-record") === null, { timeout: WAIT_MS });
    // Counted once the dead-letter write is acknowledged, which may come a report after the list emptied.
    expect(await eventually(async () => (await eddy!.api("GET", `/v1/functions/${stuckName}`)).body.stats.deadLettered === 1, WAIT_MS)).toBe(true);
  });

  it("shows a stateful function's state and looks a key up through the state route", async () => {
    const [counterName, counterTopic] = [`count-${prefix.slice(5)}`, `${prefix}-count-in`];
    await ensureTopic(counterTopic, 1);
    const deployed = await eddy!.api("POST", "/v1/functions", {
      source: `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(counterName)},
  topics: [${JSON.stringify(counterTopic)}],
  startFrom: "earliest",
  state: {},
  async handle(event, ctx) {
    const seen = (await ctx.state.get()) ?? { count: 0 };
    ctx.state.set({ count: seen.count + 1, last: event.text() });
  },
});`,
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    await produce(counterTopic, [{ key: "ada", value: "first" }, { key: "ada", value: "second" }, { key: "bob", value: "hello" }]);
    await page.goto(`${eddy!.url}/#/functions/${counterName}`);
    await page.waitForFunction(() => document.querySelector('[data-testid="state-summary"]')?.textContent?.startsWith("2 keys") === true, { timeout: 60_000 });
    await page.type('input[name="state-key"]', "ada");
    await page.click('button[data-action="lookup-state"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="state-value"] pre')?.textContent?.includes('"second"') === true, { timeout: WAIT_MS });
    expect(JSON.parse(await page.$eval('[data-testid="state-value"] pre', (el) => el.textContent ?? ""))).toEqual({ count: 2, last: "second" });
  });
});
