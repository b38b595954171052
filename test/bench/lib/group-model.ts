import type { LoadSample } from "../../../runtime/scaler/load-sample.js";

/**
 * The figures of one simulated consumer group that stay fixed for a run. Both scalers of the
 * scaler simulation get the same ones, so neither is favoured by the model.
 */
export interface GroupModelOptions {
  /** Partitions of the function's topic: more replicas than these idle. */
  partitions: number;
  /** Records one replica finishes per second at most. */
  capacityPerReplica: number;
  /** The whole group stops draining this long on every change of membership (eager rebalance). */
  rebalancePauseMs: number;
  /** From a replica being asked for (worker process spawned) to it joining the group. */
  startupMs: number;
  /**
   * Finished records become committed this long after they were finished (a replica commits after each
   * batch). Without it a group that keeps up would show lag 0 at every reading, and a lag-only rule such as
   * KEDA's (active = lag > 0) would scale a busy group to zero.
   */
  commitDelayMs: number;
  /** The model's time step; every other duration is rounded to whole ticks. */
  tickMs: number;
  /**
   * How joined replicas share the partitions' backlog.
   * - "pooled": the group drains min(replicas, partitions) × capacity, from any partition (the brief's
   *   model: effective replicas = min(R, P)).
   * - "round-robin": each replica drains only the partitions assigned to it (partition p to replica
   *   p mod R), as Kafka's assignors do: with even keys on 6 partitions, 4 or 5 replicas keep up with no
   *   more than 3, because one of them owns two partitions.
   */
  assignment: "pooled" | "round-robin";
}

export const DEFAULT_MODEL: Omit<GroupModelOptions, "capacityPerReplica" | "rebalancePauseMs"> = {
  partitions: 6,
  startupMs: 1_000,
  commitDelayMs: 250,
  tickMs: 250,
  assignment: "pooled",
};

/** Records expected to arrive in [fromMs, toMs) of simulated time (fractions allowed; the model keeps whole records). */
export type Arrivals = (fromMs: number, toMs: number) => number;

interface Replica {
  /** When it joins the group (its process has started). */
  joinsAt: number;
  joined: boolean;
}

/** Capacity that could not be used as a whole record in the last tick, carried only while saturated. */
interface Carry {
  carry: number;
}

/** What happened over a run, for the report. */
export interface GroupTotals {
  arrived: number;
  /** Membership changes that paused a non-empty group. */
  rebalances: number;
  /** Time the group had members but drained nothing because of a rebalance. */
  pausedMs: number;
  /** Replica processes alive (starting or joined) integrated over time. */
  replicaMs: number;
  /** Backlog integrated over time (record-milliseconds): over `arrived`, the mean wait of a record until finished. */
  backlogMs: number;
}

/**
 * One consumer group on `partitions` partitions, stepped in ticks of `tickMs`.
 *
 * - Arrivals are spread evenly over the partitions (keyed records hash evenly), in whole records.
 * - Each joined replica finishes at most `capacityPerReplica` records/s; replicas beyond the partition
 *   count idle. `assignment` says whether the capacity is pooled or bound to assigned partitions.
 * - Every change of membership (a replica joining after `startupMs`, or one leaving) pauses the whole
 *   group for `rebalancePauseMs` (eager protocol: every member revokes everything). A change while a
 *   pause is under way restarts the pause and is counted with it, as a member that joins during the
 *   join phase lands in the same generation. A replica stopped before it joined costs nothing.
 * - Lag is what the observer reads: log ends minus committed positions, where a finished record is
 *   committed `commitDelayMs` after it was finished.
 */
export class GroupModel {
  private nowMs = 0;
  private readonly ended: number[];
  private readonly finished: number[];
  /** Arrivals expected per partition so far (fractional); `ended` is its whole part. */
  private readonly expected: number[];
  /** Finished counts per partition at the end of each of the last ticks, oldest first: the commit delay. */
  private readonly finishedHistory: number[][] = [];
  private committedNow: number[];
  private replicas: Replica[] = [];
  /** Per partition-owner (round-robin: the replica's index among the joined) or the whole group (pooled). */
  private carries: Carry[] = [];
  private pausedUntil = 0;
  readonly totals: GroupTotals = { arrived: 0, rebalances: 0, pausedMs: 0, replicaMs: 0, backlogMs: 0 };

  constructor(
    readonly options: GroupModelOptions,
    private readonly arrivals: Arrivals,
  ) {
    const zeros = () => Array.from({ length: options.partitions }, () => 0);
    this.ended = zeros();
    this.finished = zeros();
    this.expected = zeros();
    this.committedNow = zeros();
  }

  get now(): number {
    return this.nowMs;
  }

  /** Replica processes alive: starting or joined. What the scaler asked for. */
  get replicaCount(): number {
    return this.replicas.length;
  }

  /** Replicas that joined the group (what the control plane sees as ready), paused or not. */
  get ready(): number {
    return this.replicas.filter((r) => r.joined).length;
  }

  /** What the scalers read: records not yet committed. */
  get lag(): number {
    return sum(this.partitionLags());
  }

  /**
   * Records arrived and not yet finished: what a user waits on. Lag is this plus the records finished in
   * the last `commitDelayMs`, so a group that keeps up at a high rate shows lag (rate × commit delay) but
   * no backlog.
   */
  get backlog(): number {
    return sum(this.ended) - sum(this.finished);
  }

  /** The scaler's decision, effective now: new replicas start (and join `startupMs` later); the newest go first. */
  setReplicas(count: number): void {
    const target = Math.max(0, Math.floor(count));
    while (this.replicas.length < target) this.replicas.push({ joinsAt: this.nowMs + this.options.startupMs, joined: false });
    if (this.replicas.length > target) {
      const leaving = this.replicas.splice(target);
      if (leaving.some((r) => r.joined) && this.ready > 0) this.rebalance();
    }
  }

  /** One tick: joins, arrivals, draining (unless paused), commits, and the run's totals. */
  step(): void {
    const { tickMs, partitions } = this.options;
    const from = this.nowMs;
    const to = from + tickMs;

    // Replicas whose process has started join at the start of the tick; one rebalance for all of them.
    const joining = this.replicas.filter((r) => !r.joined && r.joinsAt <= from);
    for (const r of joining) r.joined = true;
    if (joining.length > 0) this.rebalance();

    const arrived = Math.max(0, this.arrivals(from, to));
    this.totals.arrived += arrived;
    for (let p = 0; p < partitions; p += 1) {
      this.expected[p]! += arrived / partitions;
      // A hair of slack so that 0.1 + 0.2 arrivals make a record when they should.
      this.ended[p] = Math.floor(this.expected[p]! + 1e-9);
    }

    const joined = this.replicas.filter((r) => r.joined).length;
    const paused = from < this.pausedUntil && joined > 0;
    if (!paused && joined > 0) {
      const all = Array.from({ length: partitions }, (_, p) => p);
      if (this.options.assignment === "pooled") {
        this.drain(this.carry(0), all, Math.min(joined, partitions) * this.options.capacityPerReplica);
      } else {
        for (let index = 0; index < Math.min(joined, partitions); index += 1) {
          this.drain(this.carry(index), all.filter((p) => p % joined === index), this.options.capacityPerReplica);
        }
      }
    }

    // Committed positions trail the finished ones by the commit delay.
    this.finishedHistory.push([...this.finished]);
    const delayTicks = Math.round(this.options.commitDelayMs / tickMs);
    while (this.finishedHistory.length > delayTicks + 1) this.finishedHistory.shift();
    this.committedNow = this.finishedHistory[0]!;

    this.nowMs = to;
    if (paused) this.totals.pausedMs += tickMs;
    this.totals.replicaMs += this.replicas.length * tickMs;
    this.totals.backlogMs += this.backlog * tickMs;
  }

  /** The observer's reading now, as `readGroup` makes it, at `epochMs + now`. */
  reading(epochMs: number): LoadSample {
    const lags = this.partitionLags();
    return {
      at: epochMs + this.nowMs,
      lag: sum(lags),
      endOffsets: sum(this.ended),
      committed: sum(this.committedNow),
      partitions: this.options.partitions,
      laggingPartitions: lags.filter((l) => l > 0).length,
      ready: this.ready,
    };
  }

  private partitionLags(): number[] {
    return this.ended.map((end, p) => end - this.committedNow[p]!);
  }

  private rebalance(): void {
    if (this.nowMs >= this.pausedUntil) this.totals.rebalances += 1;
    this.pausedUntil = this.nowMs + this.options.rebalancePauseMs;
    // A new assignment: what an owner carried belongs to the old one.
    this.carries = [];
  }

  private carry(index: number): Carry {
    return (this.carries[index] ??= { carry: 0 });
  }

  /**
   * One tick of `perSecond` capacity spent on the backlogs of `owned` partitions, evenly (what a fair
   * fetch loop does), giving what a short backlog leaves over to the others. Whole records only.
   */
  private drain(holder: Carry, owned: number[], perSecond: number): void {
    const budget = holder.carry + (perSecond * this.options.tickMs) / 1_000;
    let left = Math.floor(budget);
    const whole = left;
    const backlog = (p: number) => this.ended[p]! - this.finished[p]!;
    // Shortest backlogs first: what they leave is shared by the longer ones.
    const order = owned.filter((p) => backlog(p) > 0).sort((a, b) => backlog(a) - backlog(b));
    order.forEach((p, i) => {
      const take = Math.min(backlog(p), Math.floor(left / (order.length - i)));
      this.finished[p]! += take;
      left -= take;
    });
    // Remainders of the even split, one record each.
    for (const p of order) {
      if (left === 0) break;
      if (backlog(p) > 0) {
        this.finished[p]! += 1;
        left -= 1;
      }
    }
    // Unused capacity is not banked: only a replica that had work for all of it keeps the fraction.
    holder.carry = order.length > 0 && left === 0 ? budget - whole : 0;
  }
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
