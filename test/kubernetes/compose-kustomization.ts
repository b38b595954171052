import { stat } from "node:fs/promises";
import path from "node:path";
import { readYaml, type K8sObject } from "./kubernetes-schemas.js";

interface Kustomization {
  kind: "Kustomization";
  namespace?: string;
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

/**
 * What `kubectl kustomize <dir>` builds, for the features deploy/kubernetes uses and nothing more:
 * resources (files and directories, recursively), `namespace`, `labels` (metadata only, as without
 * includeSelectors) and `images` (name → newName:newTag). Anything else in a kustomization is refused,
 * so that a new feature gets taught here before the tests trust it.
 */
export async function composeKustomization(dir: string): Promise<K8sObject[]> {
  const [kustomization] = await readYaml(path.join(dir, "kustomization.yaml"));
  const k = kustomization as unknown as Kustomization;
  const known = new Set(["apiVersion", "kind", "namespace", "resources", "labels", "images"]);
  const unknown = Object.keys(k).filter((key) => !known.has(key));
  if (unknown.length > 0) throw new Error(`${dir}/kustomization.yaml: this composer does not know ${unknown.join(", ")}`);

  const objects: K8sObject[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.join(dir, resource);
    objects.push(...((await stat(target)).isDirectory() ? await composeKustomization(target) : await readYaml(target)));
  }
  for (const object of objects) {
    if (k.namespace && object.kind !== "Namespace") object.metadata.namespace = k.namespace;
    for (const { pairs, includeSelectors } of k.labels ?? []) {
      if (includeSelectors) throw new Error(`${dir}/kustomization.yaml: labels with includeSelectors are not composed here`);
      object.metadata.labels = { ...object.metadata.labels, ...pairs };
    }
    for (const container of containersOf(object)) {
      const [name, tag] = splitImage(container.image);
      const rule = k.images?.find((i) => i.name === name);
      if (rule) container.image = `${rule.newName ?? name}:${rule.newTag ?? tag}`;
    }
  }
  return objects;
}

export function containersOf(object: K8sObject): ({ name: string; image: string } & Record<string, any>)[] {
  return object.spec?.template?.spec?.containers ?? [];
}

function splitImage(image: string): [string, string | undefined] {
  const at = image.lastIndexOf(":");
  return at > image.lastIndexOf("/") ? [image.slice(0, at), image.slice(at + 1)] : [image, undefined];
}
