import { describe, expect, it } from "vitest";
import { deployBody, invokeBody, replayBody, rollbackBody } from "./api-schemas.js";
import { fieldOf, MAX_JSON_DEPTH, tooDeepPath } from "./json-limits.js";

const arrays = (depth: number, inner = "1") => `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
const objects = (depth: number, inner = "1") => `${'{"a":'.repeat(depth)}${inner}${"}".repeat(depth)}`;
const zeros = (n: number) => Array.from({ length: n }, () => 0);

// [what, JSON text, path of the first container too deep (null: within the bound)]
const depths: [string, string, (string | number)[] | null][] = [
  ["a scalar", "1", null],
  ["an empty body", "", null],
  ["64 nested arrays", arrays(64), null],
  ["65 nested arrays", arrays(65), zeros(64)],
  ["64 nested objects", objects(64), null],
  ["65 nested objects", objects(65), Array.from({ length: 64 }, () => "a")],
  ["2,000,000 nested arrays", arrays(2_000_000), zeros(64)],
  ["brackets inside strings", `[${JSON.stringify("[".repeat(100))}]`, null],
  ["escaped quotes inside strings", `["\\"[[[[", ${arrays(62)}]`, null],
  ["deep after siblings", `{"x":[1,2,{"y":3}],"events":[{"k":1},{"value":${arrays(62)}}]}`, ["events", 1, "value", 0, ...zeros(60)]],
  ["an escaped key", `{"a\\u0062":${arrays(64)}}`, ["ab", ...zeros(63)]],
  ["an array index past commas in strings", `[",,,", 1, ${arrays(64)}]`, [2, ...zeros(63)]],
  ["unbalanced text", "[[[[", null],
  ["unbalanced text too deep", "[".repeat(100), zeros(64)],
];

describe("the nesting bound of request bodies", () => {
  it("is 64 levels", () => expect(MAX_JSON_DEPTH).toBe(64));

  it.each(depths)("finds %s at the right path", (_what, text, path) => {
    expect(tooDeepPath(text)).toEqual(path);
  });

  it("takes another bound", () => {
    expect(tooDeepPath(arrays(3), 3)).toBeNull();
    expect(tooDeepPath(arrays(4), 3)).toEqual([0, 0, 0]);
  });
});

// [what, schema, body text, field named]
const fields: [string, Parameters<typeof fieldOf>[0], string, string][] = [
  ["an invoke value (any JSON)", invokeBody, `{"events":[{"value":${arrays(100)}}]}`, "events.0.value"],
  ["the third invoke value, as objects", invokeBody, `{"events":[{"value":1},{"value":2},{"value":${objects(100)}}]}`, "events.2.value"],
  ["an event given as a deep list", invokeBody, `{"events":[${arrays(100)}]}`, "events.0"],
  ["event headers (text values)", invokeBody, `{"events":[{"value":1,"headers":{"h":${arrays(100)}}}]}`, "events.0.headers.h"],
  ["events as a deep list of lists", invokeBody, `{"events":${arrays(100)}}`, "events.0"],
  ["the source of a deploy (text)", deployBody, `{"source":${arrays(100)}}`, "source"],
  ["one of files", deployBody, `{"files":{"a.ts":${objects(100)}}}`, "files.a.ts"],
  ["a config field", deployBody, `{"config":{"batch":{"maxSize":${arrays(100)}}}}`, "config.batch.maxSize"],
  ["config itself", deployBody, `{"config":${arrays(100)}}`, "config"],
  ["an unknown field", deployBody, `{"source":"x","extra":${objects(100)}}`, "extra"],
  ["replay offsets (a union of text and maps)", replayBody, `{"from":{"orders":{"0":${arrays(100)}}}}`, "from.orders.0"],
  ["replay from, as a list", replayBody, `{"from":${arrays(100)}}`, "from"],
  ["a version number", rollbackBody, `{"version":${arrays(100)}}`, "version"],
  ["the body itself", rollbackBody, arrays(100), "(body)"],
];

describe("the field a too-deep body is refused for", () => {
  it.each(fields)("names %s", (_what, schema, text, field) => {
    const path = tooDeepPath(text);
    expect(path).not.toBeNull();
    expect(fieldOf(schema, path!)).toBe(field);
  });
});
