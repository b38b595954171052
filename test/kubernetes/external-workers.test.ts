import { execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDDY_MAIN, EddyProcess, freePort, runEddy, tempDir } from "../helpers/eddy-process.js";
import { consumeAll, ensureTopic, eventually, produce } from "../helpers/kafka.js";
import { parseYamlStream, validateObject } from "./kubernetes-schemas.js";

const NAME = "k8s-echo";

/** The command lines of a process' children (ps), to see whether it forked a worker. */
async function childCommands(pid: number): Promise<string[]> {
  const { stdout } = await promisify(execFile)("ps", ["-o", "args=", "--ppid", String(pid)]).catch(() => ({ stdout: "" }));
  return stdout.split("\n").filter(Boolean);
}

describe("Eddy as Kubernetes runs it: a control plane with --workers external, eddy worker pods, eddy manifests", () => {
  let eddy: EddyProcess;
  const eddyCli = (...args: string[]) => runEddy(args, eddy.env);

  beforeAll(async () => {
    await ensureTopic("k8s-in", 4);
    eddy = await EddyProcess.start({ EDDY_DATA_DIR: await tempDir("eddy-k8s"), EDDY_TOPIC_PREFIX: "k8s.", EDDY_WORKERS: "external" });
    const code = (await readFile("test/cli/fixtures/cli-echo.ts", "utf8")).replace('name: "cli-echo"', `name: "${NAME}"`).replace('"cli-in"', '"k8s-in"').replace('"cli-out"', '"k8s-out"');
    const deployed = await eddy.api("POST", "/v1/functions", { source: code, config: { scaling: { minReplicas: 1, maxReplicas: 3, lagThreshold: 50 } } });
    expect(deployed.status).toBe(201);
  });
  afterAll(async () => {
    await eddy?.stop();
  });

  it("forks no worker process, while its scaler still answers the scale route KEDA reads", async () => {
    await produce("k8s-in", Array.from({ length: 10 }, (_, i) => ({ key: `a${i}`, value: `a${i}` })));
    expect(await eventually(async () => (await eddy.api("GET", `/v1/functions/${NAME}/scale`)).body.lag === 10, 20_000)).toBe(true);
    const scale = await eddy.api("GET", `/v1/functions/${NAME}/scale`);
    expect(scale.body.desiredReplicas).toBeGreaterThanOrEqual(1);
    const status = await eddy.api("GET", `/v1/functions/${NAME}`);
    expect(status.body.replicas).toMatchObject({ ready: 0 });
    expect(eddy.logs).toContain("Workers: external");
    // Nothing consumed the records: no replica runs until a pod (here `eddy worker`) does.
    expect(status.body.lag.total).toBe(10);
    expect((await childCommands(eddy.child.pid!)).filter((c) => c.includes("worker-main"))).toEqual([]);
  });

  it("prints the function's StatefulSet and ScaledObject, valid and with its settings", async () => {
    const result = await eddyCli("manifests", NAME, "--namespace", "streams", "--image", "registry.example.com/eddy:9.9.9");
    expect(result.code).toBe(0);
    const [statefulSet, scaledObject, ...rest] = parseYamlStream(result.stdout, "eddy manifests");
    expect(rest).toEqual([]);
    for (const object of [statefulSet!, scaledObject!]) validateObject(object, "eddy manifests");
    expect(statefulSet!.metadata).toMatchObject({ name: `eddy-${NAME}`, namespace: "streams" });
    expect(statefulSet!.spec.template.spec.containers[0]).toMatchObject({ image: "registry.example.com/eddy:9.9.9", args: ["worker", "--function", NAME, "--port", "8081"] });
    expect(scaledObject!.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 3 });
    expect(scaledObject!.spec.triggers[0].metadata.url).toBe(`http://eddy.streams.svc:8080/v1/functions/${NAME}/scale`);

    const missing = await eddyCli("manifests", "no-such-function");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^eddy: no function named 'no-such-function'$/m);
    const badNamespace = await eddyCli("manifests", NAME, "--namespace", "Not_A_Namespace");
    expect(badNamespace.code).toBe(1);
    expect(badNamespace.stderr).toMatch(/--namespace: expected a Kubernetes namespace name/);
  });

  it("lets an `eddy worker --port` replica, as a pod runs it, do the work and report ready on /readyz", async () => {
    const port = await freePort();
    const worker = spawn(process.execPath, ["--no-node-snapshot", EDDY_MAIN, "worker", "--function", NAME, "--port", String(port)], {
      env: { ...process.env, ...eddy.env },
    });
    let log = "";
    worker.stderr.on("data", (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((resolve) => worker.once("exit", (code) => resolve(code)));
    try {
      const probe = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`).catch(() => null))?.status;
      expect(await eventually(async () => (await probe("/healthz")) === 200, 30_000)).toBe(true);
      expect(await eventually(async () => (await probe("/readyz")) === 200, 30_000)).toBe(true);
      // Readiness follows the group join, which can come before the "worker ready" line reaches stderr.
      expect(await eventually(async () => log.includes('"worker ready"'), 10_000), "the worker's ready line").toBe(true);
      const out = await consumeAll("k8s-out", 10, { settleMs: 1_000 });
      expect(new Set(out.map((m) => m.value!.toString()))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `cli:a${i}`)));
    } finally {
      worker.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});
