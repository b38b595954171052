// A unit test with eddy/testing: the function runs in a real isolate, with no Kafka and no running Eddy.
import { afterAll, describe, expect, it } from "vitest";
import { testFunction } from "eddy/testing";
import clicksPerMinute from "../clicks-per-minute.js";

const at = (minute: number, second: number) => `2026-12-04T10:${String(minute).padStart(2, "0")}:${String(second).padStart(2, "0")}.000Z`;

describe("clicks-per-minute (eddy/testing)", async () => {
  const fn = await testFunction(clicksPerMinute, { env: { OUT_TOPIC: "counts" } });
  afterAll(() => fn.dispose());

  it("counts clicks per page per minute and emits a window's counts once a later minute's click arrives; a late click is dropped", async () => {
    const result = await fn.invoke([
      { key: "/home", value: { page: "/home", at: at(0, 5) } },
      { key: "/cart", value: { page: "/cart", at: at(0, 20) } },
      { key: "/home", value: { page: "/home", at: at(0, 59) } },
      // The first click of minute 1 closes minute 0 for every page of the partition.
      { key: "/home", value: { page: "/home", at: at(1, 1) } },
      // Too late: minute 0 is closed.
      { key: "/cart", value: { page: "/cart", at: at(0, 30) } },
    ]);
    expect(result.outcomes.map((o) => o.status)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(result.emitted.map((e) => [e.key, e.data])).toEqual([
      ["/home", { page: "/home", windowStart: at(0, 0), windowEnd: at(1, 0), count: 2 }],
      ["/cart", { page: "/cart", windowStart: at(0, 0), windowEnd: at(1, 0), count: 1 }],
    ]);
    expect(fn.state.get("/home")).toEqual({ windowStart: Date.parse(at(1, 0)), count: 1 });
    expect(fn.state.get("stream-time:0")).toEqual({ windowStart: Date.parse(at(1, 0)), pages: ["/home"], late: 1 });
  });
});
