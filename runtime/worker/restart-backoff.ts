/** How long a crashed worker waits before it is started again: 0.5 s, doubling with each crash in a row, up to 30 s. */
export const MAX_RESTART_DELAY_MS = 30_000;
const FIRST_RESTART_DELAY_MS = 500;

/**
 * A worker that stayed up this long after it was ready is healthy again: its next crash starts the
 * backoff afresh (Kubernetes forgets a crash loop's backoff after 10 minutes; one minute suits a
 * local process better, and a worker crashing once a minute restarts at once each time).
 */
export const STEADY_AFTER_MS = 60_000;

/** The delay before restart number `step` of a crash loop (0 for the first crash after a steady run). */
export function restartDelayMs(step: number): number {
  return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** Math.min(step, 6));
}

/** The step of the crash that just happened: back to 0 when the worker had been ready for STEADY_AFTER_MS. */
export function crashStep(previousStep: number, readyForMs: number | undefined): number {
  return readyForMs !== undefined && readyForMs >= STEADY_AFTER_MS ? 0 : previousStep;
}
