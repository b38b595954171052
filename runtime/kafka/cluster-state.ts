import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brokerPaths, brokerPathsIn, type BrokerPaths } from "./broker-state.js";

/**
 * A local cluster's node `id` (1…n): the same files as a single broker's (broker.json,
 * server.properties, broker.log, data/), in `<dataDir>/kafka/node-<id>`.
 */
export function nodePaths(dataDir: string, id: number): BrokerPaths {
  const top = brokerPaths(dataDir);
  // One lock for the whole data dir: starting a cluster and a single broker there at once is one start.
  return brokerPathsIn(join(top.dir, `node-${id}`), top.lockFile);
}

/** `<dataDir>/kafka/cluster.json`: present only for a local cluster, so a single broker's data dir is as it always was. */
export interface ClusterState {
  /** How many nodes the cluster was formatted for: fixed, since each node's data names the quorum. */
  nodes: number;
  /** The KRaft cluster id every node was formatted with. */
  clusterId: string;
}

export function clusterStateFile(dataDir: string): string {
  return join(brokerPaths(dataDir).dir, "cluster.json");
}

export async function readClusterState(dataDir: string): Promise<ClusterState | null> {
  let text: string;
  try {
    text = await readFile(clusterStateFile(dataDir), "utf8");
  } catch {
    return null;
  }
  try {
    const raw = JSON.parse(text) as Partial<ClusterState>;
    if (typeof raw.nodes !== "number" || !Number.isInteger(raw.nodes) || raw.nodes < 1) return null;
    return { nodes: raw.nodes, clusterId: typeof raw.clusterId === "string" ? raw.clusterId : "" };
  } catch {
    return null;
  }
}

/** Writes cluster.json through a rename, so a reader never sees half a file. */
export async function writeClusterState(dataDir: string, state: ClusterState): Promise<void> {
  const file = clusterStateFile(dataDir);
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}
