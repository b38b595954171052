import { describe, expect, it } from "vitest";
import {
  brokerProperties,
  clusterIdFromMetaProperties,
  escapePropertyValue,
  isClusterId,
  log4j2Properties,
  newClusterId,
} from "./broker-properties.js";

function parse(text: string): Map<string, string> {
  const entries = text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as [string, string]);
  return new Map(entries);
}

describe("brokerProperties", () => {
  const props = parse(brokerProperties({ port: 9092, controllerPort: 40001, logDir: "/data/kafka/data" }));

  it("runs one KRaft node that is both controller and broker, voting for itself on the controller port", () => {
    expect(props.get("process.roles")).toBe("broker,controller");
    expect(props.get("node.id")).toBe("1");
    expect(props.get("controller.quorum.voters")).toBe("1@127.0.0.1:40001");
    expect(props.get("controller.listener.names")).toBe("CONTROLLER");
  });

  it("listens on loopback only and advertises the client port", () => {
    expect(props.get("listeners")).toBe("PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:40001");
    expect(props.get("advertised.listeners")).toBe("PLAINTEXT://127.0.0.1:9092");
  });

  it("keeps internal topics at replication factor 1, since there is one node", () => {
    expect(props.get("offsets.topic.replication.factor")).toBe("1");
    expect(props.get("transaction.state.log.replication.factor")).toBe("1");
    expect(props.get("transaction.state.log.min.isr")).toBe("1");
    expect(props.get("group.initial.rebalance.delay.ms")).toBe("0");
  });

  it("stores the data in the given log dir", () => {
    expect(props.get("log.dirs")).toBe("/data/kafka/data");
  });
});

describe("brokerProperties of a node in a local cluster of three", () => {
  const voters = [
    { id: 1, controllerPort: 40001 },
    { id: 2, controllerPort: 40002 },
    { id: 3, controllerPort: 40003 },
  ];
  const props = parse(brokerProperties({ port: 9093, controllerPort: 40002, logDir: "/data/kafka/node-2/data", nodeId: 2, voters }));

  it("is node 2, controller and broker, in a quorum of all three nodes", () => {
    expect(props.get("process.roles")).toBe("broker,controller");
    expect(props.get("node.id")).toBe("2");
    expect(props.get("controller.quorum.voters")).toBe("1@127.0.0.1:40001,2@127.0.0.1:40002,3@127.0.0.1:40003");
    expect(props.get("listeners")).toBe("PLAINTEXT://127.0.0.1:9093,CONTROLLER://127.0.0.1:40002");
  });

  it("keeps internal topics, and topics created without a replication factor, on three nodes with two in sync", () => {
    expect(props.get("offsets.topic.replication.factor")).toBe("3");
    expect(props.get("transaction.state.log.replication.factor")).toBe("3");
    expect(props.get("transaction.state.log.min.isr")).toBe("2");
    expect(props.get("default.replication.factor")).toBe("3");
    expect(props.get("min.insync.replicas")).toBe("2");
    expect(props.get("num.partitions")).toBe("3");
    expect(props.get("group.initial.rebalance.delay.ms")).toBe("0");
  });

  it("leaves a single broker's properties without the cluster's defaults", () => {
    const single = parse(brokerProperties({ port: 9092, controllerPort: 40001, logDir: "/d" }));
    expect(single.has("default.replication.factor")).toBe(false);
    expect(single.has("min.insync.replicas")).toBe(false);
  });
});

describe("escapePropertyValue", () => {
  it.each([
    ["/plain/path", "/plain/path"],
    ["C:\\data\\kafka", "C:\\\\data\\\\kafka"],
    ["/home/zoë/data", "/home/zo\\u00eb/data"],
    [" leading", "\\ leading"],
    ["/a b/c", "/a b/c"],
  ])("escapes %j as %j", (input, expected) => {
    expect(escapePropertyValue(input)).toBe(expected);
  });
});

describe("cluster ids", () => {
  it("are 22 base64url characters, like kafka-storage random-uuid", () => {
    for (let i = 0; i < 50; i++) expect(newClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    // kafka-storage would read a leading "-" as an option; 2,000 ids would hit one ~31 times in 32 runs.
    for (let i = 0; i < 2_000; i++) expect(newClusterId().startsWith("-")).toBe(false);
  });

  it("differ from one call to the next", () => {
    expect(newClusterId()).not.toBe(newClusterId());
  });

  it.each([
    ["MkU3OEVBNTcwNTJENDM2Qg", true],
    ["too-short", false],
    ["has+plus/and/slash===", false],
  ])("isClusterId(%j) is %s", (value, expected) => {
    expect(isClusterId(value)).toBe(expected);
  });

  it("are read back from meta.properties", () => {
    const meta = "#\n#Sat Nov 22 04:36:24 UTC 2026\nnode.id=1\ndirectory.id=abc\nversion=1\ncluster.id=XdxEPBL3k9jn7iVLVtv2qQ\n";
    expect(clusterIdFromMetaProperties(meta)).toBe("XdxEPBL3k9jn7iVLVtv2qQ");
    expect(clusterIdFromMetaProperties("version=1\n")).toBeNull();
  });
});

describe("log4j2Properties", () => {
  it("logs warnings and up to stdout, which is the broker log", () => {
    const text = log4j2Properties();
    expect(text).toContain("rootLogger.level = warn");
    expect(text).toContain("appender.out.target = SYSTEM_OUT");
  });
});
