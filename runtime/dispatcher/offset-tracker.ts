interface Entry {
  offset: bigint;
  done: boolean;
}

/**
 * Which records of one partition have finished, and so how far its consumer group may commit.
 *
 * Records are added in offset order as they are fetched and finish in any order (keys run in
 * parallel, retries wait). The commit position is the contiguous watermark: the offset of the
 * oldest unfinished record, or, when every record has finished, the offset after the last one
 * fetched. Offsets need not be contiguous: compaction and transaction markers leave gaps, and
 * `extendTo` moves past offsets the fetch skipped without handing them over.
 *
 * @example
 * ```ts
 * const tracker = new OffsetTracker();
 * tracker.add(10n); tracker.add(11n); tracker.add(12n);
 * tracker.markDone(11n);
 * tracker.committable(); // 10n: record 10 has not finished
 * tracker.markDone(10n);
 * tracker.committable(); // 12n
 * ```
 */
export class OffsetTracker {
  /** Received records not yet passed by the watermark, oldest first; `#head` is the first live one. */
  #entries: Entry[] = [];
  #head = 0;
  #pending = 0;
  /** The offset after everything fetched so far; undefined before the first record. */
  #next: bigint | undefined;

  /** Offsets below this were already received: a fetch that hands them over again is a duplicate. */
  get nextExpected(): bigint | undefined {
    return this.#next;
  }

  /** How many received records have not finished. */
  get pending(): number {
    return this.#pending;
  }

  /** Adds a fetched record; false (and nothing changes) when it was already received. */
  add(offset: bigint): boolean {
    if (this.#next !== undefined && offset < this.#next) return false;
    this.#entries.push({ offset, done: false });
    this.#pending += 1;
    this.#next = offset + 1n;
    return true;
  }

  /** The fetch moved past `lastOffset` (e.g. a trailing transaction marker it does not hand over). */
  extendTo(lastOffset: bigint): void {
    if (this.#next === undefined || lastOffset + 1n > this.#next) this.#next = lastOffset + 1n;
  }

  /** Marks a received record finished; false (and nothing changes) for unknown or already finished offsets. */
  markDone(offset: bigint): boolean {
    // Records mostly finish oldest first: try the head before searching.
    const head = this.#entries[this.#head];
    const index = head !== undefined && head.offset === offset ? this.#head : this.#find(offset);
    if (index < 0) return false;
    const entry = this.#entries[index]!;
    if (entry.done) return false;
    entry.done = true;
    this.#pending -= 1;
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.done) this.#head += 1;
    if (this.#head > 1_024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }

  /** Whether a received record has not finished yet. */
  isPending(offset: bigint): boolean {
    const index = this.#find(offset);
    return index >= 0 && !this.#entries[index]!.done;
  }

  /**
   * The offset to commit: every record below it has finished. Undefined before anything was
   * received (there is nothing this tracker knows to be finished).
   */
  committable(): bigint | undefined {
    const oldest = this.#entries[this.#head];
    return oldest !== undefined ? oldest.offset : this.#next;
  }

  /** Binary search over the live entries, whose offsets strictly increase. */
  #find(offset: bigint): number {
    let low = this.#head;
    let high = this.#entries.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const found = this.#entries[middle]!.offset;
      if (found === offset) return middle;
      if (found < offset) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }
}
