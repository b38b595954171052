import { describe, expect, it } from "vitest";
import { parseJavaVersion } from "./toolchain.js";

describe("parseJavaVersion", () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['openjdk version "11.0.2" 2019-01-15', 11],
    ['java version "1.8.0_292"', 8],
    ['Picked up JAVA_TOOL_OPTIONS: -Xss2m\nopenjdk version "25-ea" 2025-09-16', 25],
    ["bash: java: command not found", null],
    ["", null],
  ])("reads %j as %s", (output, expected) => {
    expect(parseJavaVersion(output)).toBe(expected);
  });
});
