import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { FunctionStatus } from "./function-service.js";

const circuitValue = { closed: 0, "half-open": 1, open: 2 } as const;

/**
 * `GET /metrics`: each function's counters, durations, lag, replicas, scaling and circuit state (SPEC §9),
 * read at scrape time from the workers' reports and from Kafka, plus the control plane's process metrics.
 * The workers' counters restart at zero when a worker restarts, which Prometheus reads as a counter reset.
 */
export class ControlMetrics {
  readonly registry = new Registry();
  private snapshot: FunctionStatus[] = [];

  constructor(private readonly statuses: () => Promise<FunctionStatus[]>) {
    collectDefaultMetrics({ register: this.registry, prefix: "eddy_control_" });
    const read = () => this.snapshot;
    const counter = (name: string, help: string, value: (s: FunctionStatus) => number) =>
      new Counter({
        name,
        help,
        labelNames: ["function"],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of read()) this.inc({ function: s.name }, value(s));
        },
      });
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: FunctionStatus) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of read()) fill(this, s);
        },
      });

    counter("eddy_invocations_total", "Records run through the function (each attempt counts)", (s) => s.stats.processed + s.stats.failed);
    counter("eddy_invocation_failures_total", "Failed attempts", (s) => s.stats.failed);
    counter("eddy_retries_total", "Attempts scheduled again after a failure", (s) => s.stats.retried);
    counter("eddy_dead_lettered_total", "Records written to the dead-letter topic", (s) => s.stats.deadLettered);
    gauge("eddy_invocation_duration_ms", "Invocation duration over the recent window, by quantile", ["function", "quantile"], (g, s) => {
      g.set({ function: s.name, quantile: "0.5" }, s.stats.p50Ms);
      g.set({ function: s.name, quantile: "0.99" }, s.stats.p99Ms);
    });
    gauge("eddy_consumer_lag", "Records not yet committed by the function's consumer group", ["function"], (g, s) => g.set({ function: s.name }, s.lag.total));
    gauge("eddy_replicas", "Worker replicas, desired and ready", ["function", "kind"], (g, s) => {
      g.set({ function: s.name, kind: "desired" }, s.replicas.desired);
      g.set({ function: s.name, kind: "ready" }, s.replicas.ready);
    });
    counter("eddy_scaling_decisions_total", "Changes of the replica count made by the scaler", (s) => s.scaler.decisions);
    gauge("eddy_arrival_rate", "Records arriving on the function's topics per second (the scaler's panic window)", ["function"], (g, s) =>
      g.set({ function: s.name }, s.scaler.arrivalPerSec),
    );
    gauge("eddy_scaler_panic", "1 while the scaler is in panic mode", ["function"], (g, s) => g.set({ function: s.name }, s.scaler.mode === "panic" ? 1 : 0));
    gauge("eddy_circuit_state", "Worst circuit breaker state over the replicas: 0 closed, 1 half-open, 2 open", ["function"], (g, s) =>
      g.set({ function: s.name }, circuitValue[s.circuit]),
    );
    gauge("eddy_function_paused", "1 when an operator paused the function", ["function"], (g, s) => g.set({ function: s.name }, s.state === "paused" ? 1 : 0));
    gauge("eddy_function_version", "The function's current version", ["function"], (g, s) => g.set({ function: s.name }, s.version));
  }

  async render(): Promise<{ contentType: string; text: string }> {
    this.snapshot = await this.statuses();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
