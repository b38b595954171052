import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { defaultImage } from "../../runtime/cli/manifests.js";
import { parseFunctionConfig } from "../../runtime/config/function-config.js";
import { SHARED, toYaml, WORKER_PROBE_PORT, workerManifests } from "../../runtime/kubernetes/worker-manifests.js";
import { composeKustomization, containersOf } from "./compose-kustomization.js";
import { parseYamlStream, readYaml, validateObject, yamlFilesUnder, type K8sObject } from "./kubernetes-schemas.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const KUBERNETES = path.join(ROOT, "deploy/kubernetes");
const OVERLAY = path.join(KUBERNETES, "overlays/example-function");

const find = (objects: K8sObject[], kind: string, name?: string) => {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? `/${name}` : ""} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
};

/** The one container of a workload, with its pod spec. */
const podOf = (workload: K8sObject) => ({ pod: workload.spec.template.spec, container: containersOf(workload)[0]! });

/** Checks what every Eddy pod must have, wherever it comes from: probes on a declared port, resources, a locked-down container. */
function expectHardenedPod(workload: K8sObject, probes: { readiness: string; liveness: string }) {
  const { pod, container } = podOf(workload);
  const ports = new Set<string | number>((container.ports ?? []).flatMap((p: { name?: string; containerPort: number }) => [p.name!, p.containerPort]));
  expect(container.readinessProbe.httpGet.path).toBe(probes.readiness);
  expect(container.livenessProbe.httpGet.path).toBe(probes.liveness);
  expect(ports.has(container.readinessProbe.httpGet.port)).toBe(true);
  expect(ports.has(container.livenessProbe.httpGet.port)).toBe(true);
  expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.stringMatching(/^\d+(Mi|Gi)$/) });
  expect(container.resources.limits.memory).toMatch(/^\d+(Mi|Gi)$/);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
  expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  // A read-only root: what Eddy writes (its data dir, temporary files) is on volumes.
  const mounts = container.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
  expect(mounts).toEqual(expect.arrayContaining(["/tmp", "/data"]));
  // The settings come from the shared ConfigMap, the key from the Secret.
  expect(container.envFrom).toContainEqual({ configMapRef: { name: SHARED.configMap } });
  expect(container.env).toContainEqual({ name: "EDDY_SECRET_KEY", valueFrom: { secretKeyRef: { name: SHARED.secret, key: "EDDY_SECRET_KEY" } } });
}

/** order-confirmation as functions/ declares it (defaults), on the 6 partitions of strimzi/topics.yaml. */
function exampleFunctionManifests(): K8sObject[] {
  const parsed = parseFunctionConfig({ name: "order-confirmation", topics: ["orders"] });
  if (!parsed.ok) throw new Error("the example's configuration does not parse");
  return workerManifests({ name: "order-confirmation", config: parsed.config, partitions: 6, namespace: "eddy", image: defaultImage() }) as K8sObject[];
}

describe("deploy/kubernetes", () => {
  it("holds only YAML that parses, and every object matches Kubernetes', KEDA's or Strimzi's schema", async () => {
    const files = await yamlFilesUnder(KUBERNETES);
    expect(files.map((f) => path.relative(KUBERNETES, f))).toEqual(
      expect.arrayContaining(["base/control-plane.yaml", "overlays/example-function/order-confirmation.yaml", "strimzi/kafka.yaml", "strimzi/topics.yaml"]),
    );
    let validated = 0;
    for (const file of files.filter((f) => !f.endsWith("kustomization.yaml"))) {
      for (const object of await readYaml(file)) {
        validateObject(object, path.relative(ROOT, file));
        validated += 1;
      }
    }
    expect(validated).toBe(12);
  });

  it.each([
    ["a StatefulSet without a selector", { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "w" }, spec: { serviceName: "w", template: {} } }, /spec must have required property .?selector/],
    ["a ConfigMap value that is not a string", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: 1 } }, /data\/a must be string/],
    [
      "a memory limit that is no quantity",
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { selector: {}, template: { spec: { containers: [{ name: "c", resources: { limits: { memory: "lots" } } }] } } } },
      /resources\/limits\/memory must match format "quantity"/,
    ],
    ["a ScaledObject without triggers", { apiVersion: "keda.sh/v1alpha1", kind: "ScaledObject", metadata: { name: "s" }, spec: { scaleTargetRef: { name: "w" } } }, /triggers/],
    ["a KafkaTopic without partitions", { apiVersion: "kafka.strimzi.io/v1beta2", kind: "KafkaTopic", metadata: { name: "t" }, spec: { replicas: 3 } }, /spec.partitions is required/],
    ["a kind no schema covers", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" } }, /no schema for v1 Pod/],
  ])("refuses %s, naming the field", (_what, object, message) => {
    expect(() => validateObject(object as K8sObject, "table")).toThrow(message);
  });

  it("composes the example overlay into valid objects, all in the namespace eddy, with the Dockerfile's image", async () => {
    const objects = await composeKustomization(OVERLAY);
    for (const object of objects) validateObject(object, "overlays/example-function");
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      ["ConfigMap/eddy", "Deployment/eddy", "Namespace/eddy", "ScaledObject/eddy-order-confirmation", "Service/eddy", "StatefulSet/eddy-order-confirmation", "TriggerAuthentication/eddy-api"].sort(),
    );
    for (const object of objects.filter((o) => o.kind !== "Namespace")) expect(object.metadata.namespace).toBe("eddy");
    for (const workload of objects.filter((o) => containersOf(o).length > 0)) expect(containersOf(workload)[0]!.image).toBe(defaultImage());
  });

  it("runs the control plane without local workers, probed on /healthz and /readyz, behind its Service", async () => {
    const objects = await composeKustomization(OVERLAY);
    const deployment = find(objects, "Deployment", SHARED.service);
    const { container } = podOf(deployment);
    expect(container.args).toEqual(["start", "--workers", "external"]);
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe("Recreate");
    expectHardenedPod(deployment, { readiness: "/readyz", liveness: "/healthz" });
    expect(container.env).toContainEqual({ name: "EDDY_API_TOKEN", valueFrom: { secretKeyRef: { name: SHARED.secret, key: "EDDY_API_TOKEN" } } });
    // The Service reaches this pod on the port the scale URL of every ScaledObject names.
    const service = find(objects, "Service", SHARED.service);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toContainEqual({ name: "http", port: SHARED.servicePort, targetPort: "http" });
    expect(container.ports).toContainEqual({ name: "http", containerPort: 8080 });
    // What the pods read: the brokers and Eddy's settings; the host every probe reaches.
    expect(find(objects, "ConfigMap", SHARED.configMap).data).toMatchObject({ KAFKA_BROKERS: expect.stringMatching(/:\d+$/), EDDY_TOPIC_PREFIX: "eddy.", EDDY_HOST: "0.0.0.0" });
  });

  it("gives KEDA the token of the Secret that secret.example.yaml shows, and a key the control plane accepts only once replaced", async () => {
    const objects = await composeKustomization(OVERLAY);
    const auth = find(objects, "TriggerAuthentication", SHARED.triggerAuthentication);
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: "token", name: SHARED.secret, key: "EDDY_API_TOKEN" }]);
    const [secret] = await readYaml(path.join(KUBERNETES, "base/secret.example.yaml"));
    expect(secret!.metadata.name).toBe(SHARED.secret);
    expect(Object.keys(secret!.stringData).sort()).toEqual(["EDDY_API_TOKEN", "EDDY_SECRET_KEY"]);
  });

  it("runs the example function's workers as eddy manifests prints them, scaled by the control plane's scale route", async () => {
    const objects = await composeKustomization(OVERLAY);
    const statefulSet = find(objects, "StatefulSet");
    const scaledObject = find(objects, "ScaledObject");
    // The overlay's file is the generator's output, so the two never drift apart.
    const file = await readFile(path.join(OVERLAY, "order-confirmation.yaml"), "utf8");
    expect(parseYamlStream(file, "order-confirmation.yaml")).toEqual(parseYamlStream(toYaml(exampleFunctionManifests() as never), "generated"));

    expect(podOf(statefulSet).container.args).toEqual(["worker", "--function", "order-confirmation", "--port", String(WORKER_PROBE_PORT)]);
    expectHardenedPod(statefulSet, { readiness: "/readyz", liveness: "/healthz" });
    expect(scaledObject.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "StatefulSet", name: statefulSet.metadata.name });
    const [trigger] = scaledObject.spec.triggers;
    expect(trigger).toMatchObject({ type: "metrics-api", metricType: "AverageValue", authenticationRef: { name: SHARED.triggerAuthentication } });
    expect(trigger.metadata).toMatchObject({ valueLocation: "desiredReplicas", targetValue: "1", authMode: "bearer" });
    expect(trigger.metadata.url).toBe(`http://${SHARED.service}.eddy.svc:${SHARED.servicePort}/v1/functions/order-confirmation/scale`);
    // No more replicas than the topic's partitions (strimzi/topics.yaml).
    const [strimziTopics, orders] = [await readYaml(path.join(KUBERNETES, "strimzi/topics.yaml")), "orders"];
    expect(scaledObject.spec.maxReplicaCount).toBe(find(strimziTopics, "KafkaTopic", orders).spec.partitions);
  });

  it("has a Strimzi Kafka in KRaft mode whose node pool and topics belong to it, reached at the ConfigMap's brokers", async () => {
    const strimzi = await composeKustomization(path.join(KUBERNETES, "strimzi"));
    const kafka = find(strimzi, "Kafka");
    expect(kafka.metadata.annotations).toMatchObject({ "strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled" });
    expect(kafka.spec.zookeeper).toBeUndefined();
    const pool = find(strimzi, "KafkaNodePool");
    expect(pool.metadata.labels!["strimzi.io/cluster"]).toBe(kafka.metadata.name);
    expect(pool.spec.roles.sort()).toEqual(["broker", "controller"]);
    for (const topic of strimzi.filter((o) => o.kind === "KafkaTopic")) expect(topic.metadata.labels!["strimzi.io/cluster"]).toBe(kafka.metadata.name);
    // Strimzi's bootstrap Service is <cluster>-kafka-bootstrap, on the listener's port.
    const [configMap] = await readYaml(path.join(KUBERNETES, "base/configmap.yaml"));
    const listener = kafka.spec.kafka.listeners.find((l: { tls: boolean }) => !l.tls);
    expect(configMap!.data.KAFKA_BROKERS).toBe(`${kafka.metadata.name}-kafka-bootstrap:${listener.port}`);
  });
});
