import { context, propagation, trace, type Attributes, type Tracer } from "@opentelemetry/api";
import type { SamplerSetting, TracingSettings } from "../config/tracing-config.js";
import { log } from "../log.js";

/** Tracing as one process runs it: the tracer its spans come from, and how to send what is left before exiting. */
export interface Tracing {
  tracer: Tracer;
  /** Exports the spans still waiting, then stops (at most a few seconds: a dead collector must not hold up a stop). */
  shutdown(): Promise<void>;
}

const SHUTDOWN_LIMIT_MS = 3_000;

/**
 * Starts OpenTelemetry's trace SDK in this process when tracing is configured: spans are exported
 * with OTLP over HTTP (JSON) to OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, with OTEL_EXPORTER_OTLP_HEADERS,
 * and the resource is `service.name=eddy` plus `attributes`, overridden by OTEL_SERVICE_NAME and
 * OTEL_RESOURCE_ATTRIBUTES. The SDK's modules are imported only here, so a process without tracing
 * never loads them. Undefined when tracing is off.
 */
export async function startTracing(settings: TracingSettings | null, attributes: Attributes): Promise<Tracing | undefined> {
  if (settings === null) return undefined;
  const [sdk, { OTLPTraceExporter }, resources, { AsyncLocalStorageContextManager }, core] = await Promise.all([
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
  ]);
  const resource = resources
    .resourceFromAttributes({ "service.name": "eddy", ...attributes })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new sdk.TracerProvider({
    resource,
    sampler: samplerOf(settings.sampler, sdk),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: settings.scheduleDelayMs })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: trace.getTracer("eddy"),
    async shutdown() {
      const limit = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_LIMIT_MS).unref());
      await Promise.race([provider.shutdown().catch((error: unknown) => log.warn({ err: error }, "exporting the last spans failed")), limit]);
    },
  };
}

type Sdk = typeof import("@opentelemetry/sdk-trace");

function samplerOf(setting: SamplerSetting, sdk: Sdk) {
  switch (setting.kind) {
    case "always_on":
      return new sdk.AlwaysOnSampler();
    case "always_off":
      return new sdk.AlwaysOffSampler();
    case "traceidratio":
      return new sdk.TraceIdRatioBasedSampler(setting.ratio);
    case "parentbased_always_on":
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() });
    case "parentbased_always_off":
      return new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(setting.ratio) });
  }
}
