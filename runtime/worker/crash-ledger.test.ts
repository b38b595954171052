import { describe, expect, it } from "vitest";
import { isQuarantined } from "../dispatcher/crash-suspects.js";
import { CrashLedger, expandRanges, isRecordCrash, toRanges } from "./crash-ledger.js";

const started = (id: number, first: number, last: number) => ({ id, topic: "t", partition: 0, ranges: [[String(first), String(last)]] as [string, string][] });

describe("CrashLedger", () => {
  it("halves the blame with each crash until the culprit is alone, and quarantines it after 3 crashes", () => {
    const ledger = new CrashLedger();
    ledger.notice(0, [started(1, 0, 99)]);
    expect(ledger.crashed(0, "signal SIGABRT")).toEqual({ records: 100, bisecting: true });
    expect(ledger.suspects()).toHaveLength(100);
    expect(ledger.suspects()[0]).toMatchObject({ offset: "0", crashes: 1, maxBatch: 50, alone: false, exit: "signal SIGABRT" });

    // The innocent half ran through: cleared. The other half crashes.
    ledger.notice(0, [started(1, 0, 49)], [1]);
    ledger.notice(0, [started(2, 50, 99)], []);
    ledger.notice(0, [], [1]);
    ledger.crashed(0, "signal SIGABRT");
    expect(ledger.suspects().map((s) => s.offset)).toEqual(Array.from({ length: 50 }, (_, i) => String(50 + i)));
    expect(ledger.suspects()[0]).toMatchObject({ crashes: 2, maxBatch: 25 });

    ledger.notice(0, [started(1, 77, 77)]);
    const alone = ledger.crashed(0, "signal SIGABRT");
    expect(alone).toEqual({ records: 1, bisecting: false });
    const culprit = ledger.suspects().find((s) => s.offset === "77")!;
    expect(culprit).toMatchObject({ crashes: 3, maxBatch: 1, alone: true });
    expect(isQuarantined(culprit)).toBe(true);
    expect(ledger.status()).toMatchObject({ suspects: 50, quarantined: 1, last: { replica: 0, exit: "signal SIGABRT", inFlight: 1 } });
  });

  it("keeps blaming a record alone fewer than 3 times as bisecting", () => {
    const ledger = new CrashLedger();
    ledger.notice(0, [started(1, 5, 5)]);
    expect(ledger.crashed(0, "signal SIGSEGV")).toEqual({ records: 1, bisecting: true });
    expect(isQuarantined(ledger.suspects()[0]!)).toBe(false);
  });

  it("blames only the crashed replica's records, and nothing after an exit from outside", () => {
    const ledger = new CrashLedger();
    ledger.notice(0, [started(1, 0, 9)]);
    ledger.notice(1, [{ ...started(1, 0, 9), partition: 1 }]);
    ledger.forget(1);
    expect(ledger.crashed(1, "signal SIGABRT")).toEqual({ records: 0, bisecting: false });
    expect(ledger.status()).toEqual({ suspects: 0, quarantined: 0, last: null });
    expect(ledger.crashed(0, "signal SIGABRT").records).toBe(10);
    expect(new Set(ledger.suspects().map((s) => s.partition))).toEqual(new Set([0]));
  });

  it("a record blamed beside others is not alone, even in an invocation of its own", () => {
    const ledger = new CrashLedger();
    ledger.notice(0, [started(1, 3, 3), started(2, 8, 9)]);
    ledger.crashed(0, "signal SIGABRT");
    expect(ledger.suspects().find((s) => s.offset === "3")).toMatchObject({ alone: false, maxBatch: 1 });
  });
});

describe("isRecordCrash", () => {
  it.each([
    [null, "SIGABRT", true],
    [null, "SIGSEGV", true],
    [null, "SIGKILL", false],
    [null, "SIGTERM", false],
    [134, null, true],
    [1, null, false],
    [0, null, false],
  ] as const)("exit code %s, signal %s → %s", (code, signal, expected) => {
    expect(isRecordCrash(code, signal)).toBe(expected);
  });
});

describe("offset ranges", () => {
  it("packs contiguous offsets into pairs, in order, and unpacks them again", () => {
    const offsets = [7n, 3n, 4n, 5n, 10n];
    expect(toRanges(offsets)).toEqual([["3", "5"], ["7", "7"], ["10", "10"]]);
    expect(expandRanges(toRanges(offsets))).toEqual(["3", "4", "5", "7", "10"]);
    expect(toRanges([100n, 101n, 102n])).toEqual([["100", "102"]]);
  });
});
