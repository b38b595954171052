import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./load-config.js";

describe("loadConfig", () => {
  it("uses the defaults of SPEC §9 when nothing is set", () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({
      brokers: null,
      sasl: null,
      ssl: false,
      port: 8080,
      host: "127.0.0.1",
      apiToken: null,
      dataDir: path.resolve(".eddy"),
      topicPrefix: "eddy.",
      url: "http://127.0.0.1:8080",
      metricsAuth: "none",
      workerCpuProfileDir: null,
    });
    expect(loadConfig({}, { EDDY_METRICS_AUTH: "token" }).metricsAuth).toBe("token");
    expect(loadConfig({}, { EDDY_WORKER_CPU_PROF: "profiles" }).workerCpuProfileDir).toBe(path.resolve("profiles"));
  });

  it("takes the environment over defaults and flags over the environment", () => {
    const env = { KAFKA_BROKERS: "a:9092, b:9092", EDDY_PORT: "9000", EDDY_API_TOKEN: "from-env", KAFKA_SSL: "true" };
    expect(loadConfig({}, env)).toMatchObject({ brokers: ["a:9092", "b:9092"], port: 9000, apiToken: "from-env", ssl: true });
    expect(loadConfig({ kafka: "c:1", port: "7000", token: "from-flag" }, env)).toMatchObject({
      brokers: ["c:1"],
      port: 7000,
      apiToken: "from-flag",
    });
  });

  it("forks local workers unless EDDY_WORKERS or --workers says external", () => {
    expect(loadConfig({}, {}).workers).toBe("local");
    expect(loadConfig({}, { EDDY_WORKERS: "external" }).workers).toBe("external");
    expect(loadConfig({ workers: "local" }, { EDDY_WORKERS: "external" }).workers).toBe("local");
    expect(() => loadConfig({ workers: "k8s" }, {})).toThrow(/--workers: expected "local" or "external", got k8s/);
    expect(loadConfig({}, {}).workerPort).toBeNull();
    expect(loadConfig({}, { EDDY_WORKER_PORT: "8081" }).workerPort).toBe(8081);
  });

  it("reads SASL credentials together", () => {
    const env = { KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" };
    expect(loadConfig({}, env).sasl).toEqual({ mechanism: "scram-sha-512", username: "u", password: "p" });
    expect(() => loadConfig({}, { KAFKA_SASL_MECHANISM: "plain" })).toThrow(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });

  it.each([
    [{ EDDY_PORT: "eighty" }, /EDDY_PORT: expected a port number/],
    [{ KAFKA_SSL: "yes" }, /KAFKA_SSL: expected "true" or "false"/],
    [{ EDDY_LOG_LEVEL: "loud" }, /EDDY_LOG_LEVEL/],
    [{ KAFKA_SASL_MECHANISM: "kerberos" }, /KAFKA_SASL_MECHANISM/],
    [{ EDDY_METRICS_AUTH: "basic" }, /EDDY_METRICS_AUTH: expected "none" or "token"/],
    [{ EDDY_WORKER_PORT: "probes" }, /EDDY_WORKER_PORT: expected a port number/],
    [{ EDDY_WORKERS: "kubernetes" }, /EDDY_WORKERS: expected "local" or "external"/],
  ])("rejects a bad environment %j naming the variable", (env, message) => {
    expect(() => loadConfig({}, env)).toThrow(message);
  });
});
