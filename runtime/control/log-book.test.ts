import { describe, expect, it } from "vitest";
import { LOG_LINES_KEPT, LogBook } from "./log-book.js";

const line = (message: string) => ({ at: "2025-01-01T00:00:00.000Z", level: "info" as const, source: "function" as const, message });

describe("LogBook", () => {
  it("keeps the newest lines per function, newest last, and tells followers", () => {
    const book = new LogBook();
    const followed: string[] = [];
    const stop = book.subscribe("a", (l) => followed.push(l.message));
    for (let i = 0; i < LOG_LINES_KEPT + 5; i += 1) book.append("a", line(`m${i}`));
    book.append("b", line("other"));
    stop();
    book.append("a", line("after"));
    expect(book.recent("a", 2).map((l) => l.message)).toEqual([`m${LOG_LINES_KEPT + 4}`, "after"]);
    expect(book.recent("a")).toHaveLength(LOG_LINES_KEPT);
    expect(followed).toHaveLength(LOG_LINES_KEPT + 5);
  });

  it("keeps a worker's warnings and errors about the function, with where and why", () => {
    const book = new LogBook();
    const failed = { level: 40, time: 1_735_689_600_000, pid: 1, function: "a", topic: "orders", partition: 2, offset: "41", attempt: 3, error: { name: "TypeError", message: "x is undefined" }, msg: "invocation failed" };
    book.appendWorkerOutput("a", JSON.stringify(failed));
    book.appendWorkerOutput("a", JSON.stringify({ level: 30, msg: "worker ready" }));
    book.appendWorkerOutput("a", JSON.stringify({ level: 50, kafkajs: "Consumer", msg: "noise" }));
    book.appendWorkerOutput("a", "not json");
    expect(book.recent("a")).toEqual([
      {
        at: "2025-01-01T00:00:00.000Z",
        level: "warn",
        source: "eddy",
        message: "invocation failed: orders[2]@41, attempt 3: TypeError: x is undefined",
        context: { topic: "orders", partition: 2, offset: "41", attempt: 3, error: { name: "TypeError", message: "x is undefined" } },
      },
    ]);
  });
});
