import { describe, expect, it } from "vitest";
import { loadConfig } from "./load-config.js";
import { tracingFromEnv } from "./tracing-config.js";

describe("tracingFromEnv", () => {
  it("is off without an OTLP endpoint or exporter, and when disabled", () => {
    expect(tracingFromEnv({})).toBeNull();
    expect(tracingFromEnv({ OTEL_SERVICE_NAME: "orders", OTEL_TRACES_SAMPLER: "always_on" })).toBeNull();
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" })).toBeNull();
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "none" })).toBeNull();
  });

  it("is on with either endpoint or OTEL_TRACES_EXPORTER=otlp, parent-based always-on by default", () => {
    const defaults = { sampler: { kind: "parentbased_always_on" }, scheduleDelayMs: 5_000 };
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toEqual(defaults);
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toEqual(defaults);
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "otlp" })).toEqual(defaults);
  });

  it("reads the sampler, its ratio and the batch delay", () => {
    const env = { OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1", OTEL_BSP_SCHEDULE_DELAY: "200" };
    expect(tracingFromEnv(env)).toEqual({ sampler: { kind: "parentbased_traceidratio", ratio: 0.1 }, scheduleDelayMs: 200 });
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "traceidratio" })?.sampler).toEqual({ kind: "traceidratio", ratio: 1 });
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "always_off" })?.sampler).toEqual({ kind: "always_off" });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: "jaeger" }, /OTLP over HTTP only.*"jaeger"/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" }, /expected a URL/],
    [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "sometimes" }, /OTEL_TRACES_SAMPLER: expected one of/],
    [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" }, /between 0 and 1/],
    [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_BSP_SCHEDULE_DELAY: "soon" }, /OTEL_BSP_SCHEDULE_DELAY/],
  ])("refuses %j with a message naming the variable", (env, message) => {
    expect(() => tracingFromEnv(env)).toThrow(message);
  });

  it("takes --otel as the endpoint, and chooses the log format from the flag, the environment or the terminal", () => {
    expect(loadConfig({}, {}).tracing).toBeNull();
    expect(loadConfig({ otel: "http://127.0.0.1:4318" }, {}).tracing).not.toBeNull();
    expect(() => loadConfig({ otel: "localhost" }, {})).toThrow(/--otel: expected the URL/);
    expect(loadConfig({}, {}).logFormat).toBe("json");
    expect(loadConfig({}, {}, true).logFormat).toBe("pretty");
    expect(loadConfig({}, { EDDY_LOG_FORMAT: "json" }, true).logFormat).toBe("json");
    expect(loadConfig({ logFormat: "pretty" }, {}).logFormat).toBe("pretty");
    expect(() => loadConfig({ logFormat: "xml" }, {})).toThrow(/--log-format: expected "json" or "pretty"/);
  });
});
