import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { kafkaPomPath, parsePomKafkaVersion, versionFromLibs } from "./kafka-jars.js";

describe("the Kafka version", () => {
  it("comes from <kafka.version> in deploy/kafka/pom.xml", () => {
    const version = parsePomKafkaVersion(readFileSync(kafkaPomPath(), "utf8"));
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("is an error when the pom has no <kafka.version>", () => {
    expect(() => parsePomKafkaVersion("<project></project>")).toThrow(/kafka\.version/);
  });

  it("is read from the kafka_2.13 jar of an unpacked Kafka's libs/", () => {
    const libs = ["kafka-clients-3.9.1.jar", "kafka_2.13-3.9.1-test.jar", "kafka_2.13-3.9.1.jar", "scala-library-2.13.15.jar"];
    expect(versionFromLibs(libs)).toBe("3.9.1");
    expect(versionFromLibs(["kafka-clients-3.9.1.jar"])).toBeNull();
  });
});
