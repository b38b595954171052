/** How long to wait before the next attempt, SPEC §3 `retry.backoff`. */
export interface BackoffPolicy {
  initialMs: number;
  multiplier: number;
  maxMs: number;
  jitter: "full" | "none";
}

/**
 * Exponential backoff with full jitter (AWS' "full jitter": uniform in [0, cap]), which spreads
 * retries of many keys apart instead of hitting a recovering service in lockstep.
 * `failedAttempts` is how many attempts have failed so far (1 after the first failure).
 */
export function backoffDelayMs(policy: BackoffPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const cap = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** exponent);
  return policy.jitter === "full" ? Math.floor(random() * cap) : cap;
}
