import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { parseAllDocuments } from "yaml";

/** A Kubernetes object as YAML gives it. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, any>;

/** Kubernetes' and KEDA's own schemas (OpenAPI, compiled by kubernetes-models), by apiVersion and kind. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
  "keda.sh/v1alpha1/TriggerAuthentication": TriggerAuthentication,
};

/**
 * Strimzi publishes no model package: its resources get a check of the fields Strimzi requires (its
 * CRDs' `required` lists for what these examples use) and of how they refer to each other.
 */
const STRIMZI_REQUIRED: Record<string, string[][]> = {
  Kafka: [["spec", "kafka", "listeners"]],
  KafkaNodePool: [["spec", "replicas"], ["spec", "roles"], ["spec", "storage", "type"]],
  KafkaTopic: [["spec", "partitions"], ["spec", "replicas"]],
};

/** Throws, naming the object and every problem, when it does not match its schema. */
export function validateObject(object: K8sObject, where: string): void {
  const label = `${where}: ${object.kind}/${object.metadata?.name}`;
  if (object.apiVersion === "kafka.strimzi.io/v1beta2") {
    const required = STRIMZI_REQUIRED[object.kind];
    if (!required) throw new Error(`${label}: not a Strimzi kind these examples use`);
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(object.metadata?.name ?? "")) throw new Error(`${label}: metadata.name is not a DNS name`);
    for (const fieldPath of required) {
      if (fieldPath.reduce<any>((at, key) => at?.[key], object) === undefined) throw new Error(`${label}: ${fieldPath.join(".")} is required`);
    }
    return;
  }
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`${label}: no schema for ${object.apiVersion} ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`);
  }
}

/** Every document of a YAML stream; a document that does not parse throws, naming the file. */
export function parseYamlStream(text: string, where: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value = doc.toJS() as K8sObject | null;
    return value === null ? [] : [value];
  });
}

export async function yamlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => path.join(e.parentPath, e.name)).sort();
}

export async function readYaml(file: string): Promise<K8sObject[]> {
  return parseYamlStream(await readFile(file, "utf8"), file);
}
