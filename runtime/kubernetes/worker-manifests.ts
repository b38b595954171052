import { createHash } from "node:crypto";
import type { IScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { stringify } from "yaml";
import type { FunctionConfig } from "../config/function-config.js";

/**
 * The names that `deploy/kubernetes/base` gives what every function's workers share; the manifests of
 * `eddy manifests` refer to them (test/kubernetes checks that the base keeps them).
 */
export const SHARED = {
  /** ConfigMap of the settings every Eddy process reads (KAFKA_BROKERS, EDDY_TOPIC_PREFIX, …). */
  configMap: "eddy",
  /** Secret holding EDDY_API_TOKEN and EDDY_SECRET_KEY. */
  secret: "eddy",
  /** Optional Secret with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (and anything else for Kafka). */
  kafkaSecret: "eddy-kafka",
  /** KEDA TriggerAuthentication that sends the API token as a bearer header. */
  triggerAuthentication: "eddy-api",
  /** The control plane's Service and its port. */
  service: "eddy",
  servicePort: 8080,
} as const;

/** The port `eddy worker --port` serves /healthz and /readyz on inside a worker pod. */
export const WORKER_PROBE_PORT = 8081;
/** The uid and gid of the `node` user in the image (Dockerfile: `USER node`). */
const NODE_UID = 1000;

export interface WorkerManifestInput {
  /** The function's name, as deployed. */
  name: string;
  /** Its resolved configuration, as `GET /v1/functions/:name` answers it. */
  config: Pick<FunctionConfig, "timeoutMs" | "memoryMb" | "delivery" | "scaling">;
  /** Partitions of its source topics together: no more replicas than that (a replica without a partition idles). */
  partitions: number;
  namespace: string;
  image: string;
  /** Where KEDA reaches the control plane; default its Service in `namespace`. */
  controlPlaneUrl?: string;
}

/** A Kubernetes object as plain data, ready for YAML. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;

/**
 * A StatefulSet's name: pods are `<name>-<ordinal>` and carry a `controller-revision-hash` label of
 * `<name>-<10 characters>`, which must stay within 63, so long function names are cut and made unique
 * with a hash of the whole name.
 */
export function workerWorkloadName(functionName: string): string {
  const name = `eddy-${functionName}`;
  if (name.length <= 52) return name;
  const hash = createHash("sha256").update(functionName).digest("hex").slice(0, 6);
  return `${name.slice(0, 45).replace(/-+$/, "")}-${hash}`;
}

/** The replicas KEDA may run: [minReplicas, min(maxReplicas, partitions)], as Eddy's own scaler keeps them (SPEC §7). */
export function replicaBounds(scaling: FunctionConfig["scaling"], partitions: number): { min: number; max: number } {
  const max = Math.max(1, Math.min(scaling.maxReplicas ?? partitions, partitions));
  return { min: Math.min(scaling.minReplicas, max), max };
}

/**
 * A function's workers for Kubernetes: a StatefulSet running `eddy worker --function <name>` (each pod's
 * replica index is its ordinal, which a StatefulSet never gives two pods at once: under exactly-once the
 * index is the replica's transactional id) and a KEDA ScaledObject whose `metrics-api` trigger reads
 * the control plane's `GET /v1/functions/:name/scale`, so that Eddy's decider drives the HPA.
 */
export function workerManifests(input: WorkerManifestInput): [Manifest, Manifest] {
  const { name: fn, config, namespace, image } = input;
  const workload = workerWorkloadName(fn);
  const labels = { "app.kubernetes.io/name": "eddy", "app.kubernetes.io/component": "worker", "eddy/function": fn };
  const { min, max } = replicaBounds(config.scaling, input.partitions);
  const url = `${input.controlPlaneUrl ?? `http://${SHARED.service}.${namespace}.svc:${SHARED.servicePort}`}/v1/functions/${encodeURIComponent(fn)}/scale`;
  const pollingInterval = Math.max(1, Math.ceil(config.scaling.pollIntervalMs / 1_000));

  // `satisfies` checks every field name against Kubernetes' and KEDA's types (dev dependencies, types only).
  const statefulSet = {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: workload, namespace, labels },
    spec: {
      // No `replicas`: KEDA's HPA owns the count (a re-apply must not reset it).
      serviceName: workload,
      // Replicas start and stop side by side (a scale step is one rebalance, not one per pod).
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "RollingUpdate" },
      selector: { matchLabels: { "app.kubernetes.io/component": "worker", "eddy/function": fn } },
      template: {
        metadata: { labels },
        spec: {
          // A replica drains at most one invocation (timeoutMs), then leaves its group.
          terminationGracePeriodSeconds: Math.ceil(config.timeoutMs / 1_000) + 15,
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: NODE_UID, runAsGroup: NODE_UID, fsGroup: NODE_UID, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "worker",
              image,
              args: ["worker", "--function", fn, "--port", String(WORKER_PROBE_PORT)],
              ports: [{ name: "probes", containerPort: WORKER_PROBE_PORT }],
              envFrom: [{ configMapRef: { name: SHARED.configMap } }, { secretRef: { name: SHARED.kafkaSecret, optional: true } }],
              // The key that opens the function's secrets; the API token is not needed here.
              env: [{ name: "EDDY_SECRET_KEY", valueFrom: { secretKeyRef: { name: SHARED.secret, key: "EDDY_SECRET_KEY" } } }],
              resources: workerResources(config.memoryMb),
              // Ready once its consumer has joined the function's group (or there is nothing to run: paused).
              readinessProbe: { httpGet: { path: "/readyz", port: "probes" }, periodSeconds: 5, failureThreshold: 3 },
              livenessProbe: { httpGet: { path: "/healthz", port: "probes" }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 3 },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [
                { name: "tmp", mountPath: "/tmp" },
                { name: "data", mountPath: "/data" },
              ],
            },
          ],
          volumes: [
            { name: "tmp", emptyDir: {} },
            { name: "data", emptyDir: {} },
          ],
        },
      },
    },
  } satisfies IStatefulSet;

  const scaledObject = {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: { name: workload, namespace, labels },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: workload },
      minReplicaCount: min,
      maxReplicaCount: max,
      pollingInterval,
      // Eddy's decider already waited scaleToZeroAfterMs before it answers 0: KEDA need not wait again.
      cooldownPeriod: Math.max(5, 2 * pollingInterval),
      advanced: {
        // The decider holds its own stable window and panics on surges: the HPA follows it at once.
        horizontalPodAutoscalerConfig: {
          behavior: {
            scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: max, periodSeconds: 15 }] },
            scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: max, periodSeconds: 15 }] },
          },
        },
      },
      triggers: [
        {
          type: "metrics-api",
          // AverageValue with target 1: the HPA runs desiredReplicas ÷ 1 pods, Eddy's count exactly.
          metricType: "AverageValue",
          metadata: { url, valueLocation: "desiredReplicas", targetValue: "1", activationTargetValue: "0", authMode: "bearer" },
          authenticationRef: { name: SHARED.triggerAuthentication },
        },
      ],
    },
  } satisfies IScaledObject;
  return [statefulSet, scaledObject];
}

/**
 * A worker pod holds two Node processes (`eddy worker` and the worker it forks) and the function's
 * isolate heap (`memoryMb`). No CPU limit: throttling would stall heartbeats and invocations alike.
 */
function workerResources(memoryMb: number) {
  return {
    requests: { cpu: "100m", memory: `${memoryMb + 256}Mi` },
    limits: { memory: `${memoryMb + 512}Mi` },
  };
}

/** Kubernetes objects as one YAML stream (`---` between documents), as `kubectl apply -f -` reads it. */
export function toYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => stringify(m, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
}
