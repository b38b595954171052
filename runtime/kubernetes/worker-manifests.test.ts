import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseFunctionConfig, type FunctionConfig } from "../config/function-config.js";
import { replicaBounds, toYaml, workerManifests, workerWorkloadName } from "./worker-manifests.js";

function configOf(overrides: Record<string, unknown> = {}): FunctionConfig {
  const parsed = parseFunctionConfig({ name: "fraud-check", topics: ["payments"], ...overrides });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

const manifestsOf = (config: FunctionConfig, partitions = 12) =>
  workerManifests({ name: "fraud-check", config, partitions, namespace: "payments", image: "registry.example.com/eddy:1.2.3" }) as any[];

describe("workerManifests", () => {
  it("runs `eddy worker --function <name>` in a StatefulSet, each pod's replica index its ordinal", () => {
    const [statefulSet] = manifestsOf(configOf());
    expect(statefulSet).toMatchObject({ apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "eddy-fraud-check", namespace: "payments" } });
    // No --replica: the worker reads its index from the pod's name, <statefulset>-<ordinal>.
    expect(statefulSet.spec.template.spec.containers[0]).toMatchObject({ image: "registry.example.com/eddy:1.2.3", args: ["worker", "--function", "fraud-check", "--port", "8081"] });
    expect(statefulSet.spec.replicas).toBeUndefined();
    expect(statefulSet.spec.podManagementPolicy).toBe("Parallel");
    expect(statefulSet.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/component": "worker", "eddy/function": "fraud-check" });
  });

  it("sizes the pod from memoryMb and lets it drain one invocation (timeoutMs) before it is killed", () => {
    const [statefulSet] = manifestsOf(configOf({ memoryMb: 512, timeoutMs: 60_000 }));
    const pod = statefulSet.spec.template.spec;
    expect(pod.terminationGracePeriodSeconds).toBe(75);
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: "100m", memory: "768Mi" }, limits: { memory: "1024Mi" } });
  });

  it("scales between minReplicas and maxReplicas, never past the partitions, on the decider's desiredReplicas", () => {
    const [, scaledObject] = manifestsOf(configOf({ scaling: { minReplicas: 1, maxReplicas: 20, pollIntervalMs: 2_000 } }), 8);
    expect(scaledObject.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 8, pollingInterval: 2, scaleTargetRef: { kind: "StatefulSet", name: "eddy-fraud-check" } });
    expect(scaledObject.spec.triggers).toEqual([
      {
        type: "metrics-api",
        metricType: "AverageValue",
        metadata: {
          url: "http://eddy.payments.svc:8080/v1/functions/fraud-check/scale",
          valueLocation: "desiredReplicas",
          targetValue: "1",
          activationTargetValue: "0",
          authMode: "bearer",
        },
        authenticationRef: { name: "eddy-api" },
      },
    ]);
  });

  it.each([
    { scaling: {}, partitions: 6, bounds: { min: 0, max: 6 } },
    { scaling: { maxReplicas: 3 }, partitions: 6, bounds: { min: 0, max: 3 } },
    { scaling: { minReplicas: 4 }, partitions: 2, bounds: { min: 2, max: 2 } },
    { scaling: {}, partitions: 0, bounds: { min: 0, max: 1 } },
  ])("bounds $scaling on $partitions partitions to $bounds", ({ scaling, partitions, bounds }) => {
    expect(replicaBounds(configOf({ scaling }).scaling, partitions)).toEqual(bounds);
  });

  it("takes another control plane URL for KEDA", () => {
    const [, scaledObject] = workerManifests({ name: "a", config: configOf(), partitions: 1, namespace: "x", image: "eddy:1", controlPlaneUrl: "https://eddy.example.com" }) as any[];
    expect(scaledObject.spec.triggers[0].metadata.url).toBe("https://eddy.example.com/v1/functions/a/scale");
  });

  it("keeps workload names short enough for a pod's revision label, and distinct", () => {
    const long = "a".repeat(60);
    expect(workerWorkloadName("orders")).toBe("eddy-orders");
    expect(workerWorkloadName(long).length).toBeLessThanOrEqual(52);
    expect(workerWorkloadName(long)).not.toBe(workerWorkloadName(`${"a".repeat(59)}b`));
    expect(workerWorkloadName(long)).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });

  it("prints a YAML stream that reads back as the same objects, without anchors", () => {
    const manifests = manifestsOf(configOf());
    const text = toYaml(manifests);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parseAllDocuments(text).map((d) => d.toJS())).toEqual(manifests);
  });
});
