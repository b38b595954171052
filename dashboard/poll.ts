import { ApiError, messageOf } from "./api.js";
import { clearError, reportError } from "./banner.js";

/**
 * Runs `task` now and again `intervalMs` after each run ends (never two at once, so a slow server is not
 * flooded), until `signal` aborts. A failure shows in the banner and the next run retries.
 */
export function poll(source: string, intervalMs: number, signal: AbortSignal, task: () => Promise<void>): { now(): void } {
  let timer: number | undefined;
  let running = false;
  const run = async () => {
    if (signal.aborted || running) return;
    window.clearTimeout(timer);
    running = true;
    try {
      await task();
      clearError(source);
    } catch (error) {
      // A 401 signs the page out (Api.onUnauthorized); an abort is the page going away.
      if (!signal.aborted && !(error instanceof ApiError && error.status === 401)) reportError(source, messageOf(error));
    } finally {
      running = false;
      if (!signal.aborted) timer = window.setTimeout(run, intervalMs);
    }
  };
  signal.addEventListener("abort", () => {
    window.clearTimeout(timer);
    clearError(source);
  });
  void run();
  return { now: () => void run() };
}
