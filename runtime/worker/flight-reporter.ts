import type { FlightLog } from "../dispatcher/crash-suspects.js";
import { toRanges } from "./crash-ledger.js";
import type { FromWorker } from "./messages.js";

/**
 * The worker's side of the crash ledger: a notice goes to the supervisor before each invocation
 * enters the isolate (synchronously, so that it is on its way before the function can crash the
 * process), carrying the ids of invocations that finished since. Finishes with no start to ride
 * along are sent on the next turn of the event loop, so that an idle worker's ledger is current.
 */
export class FlightReporter implements FlightLog {
  #nextId = 1;
  #finished: number[] = [];
  #flushScheduled = false;

  constructor(private readonly send: (message: FromWorker) => void) {}

  started(topic: string, partition: number, offsets: readonly bigint[]): number {
    const id = this.#nextId++;
    const finished = this.#takeFinished();
    this.send({ type: "invocations", started: [{ id, topic, partition, ranges: toRanges(offsets) }], ...(finished && { finished }) });
    return id;
  }

  finished(id: number): void {
    this.#finished.push(id);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const finished = this.#takeFinished();
      if (finished) this.send({ type: "invocations", finished });
    });
  }

  #takeFinished(): number[] | undefined {
    if (this.#finished.length === 0) return undefined;
    const finished = this.#finished;
    this.#finished = [];
    return finished;
  }
}
