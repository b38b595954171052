/**
 * One reading of a function's consumer group, as the observer takes it every `scaling.pollIntervalMs`.
 * Offsets are summed over the function's partitions: their growth between two readings is what arrived
 * (log ends) and what was finished (committed positions). Sums of offsets stay exact as numbers far
 * beyond any real log (2^53).
 */
export interface LoadSample {
  /** When it was read (ms since the epoch). */
  at: number;
  /** Records not yet committed, over all partitions: never negative, records deleted by retention excluded. */
  lag: number;
  /** Sum of the partitions' log-end offsets. */
  endOffsets: number;
  /** Sum of the group's effective positions (where it would resume), each within [log start, log end]. */
  committed: number;
  /** Partitions of the function's topics. */
  partitions: number;
  /** Partitions with lag: more replicas than these cannot drain a backlog faster. */
  laggingPartitions: number;
  /** Replicas that had joined and were consuming when it was read. */
  ready: number;
}
