/**
 * The error banner. Several pollers report into it at once, so each failure is kept under its own key and
 * cleared only by that source's next success: one poller's success must not hide another's outage.
 */
const failures = new Map<string, string>();

export function reportError(source: string, message: string): void {
  failures.set(source, message);
  render();
}

export function clearError(source: string): void {
  if (failures.delete(source)) render();
}

export function clearAllErrors(): void {
  failures.clear();
  render();
}

function render(): void {
  const banner = document.querySelector<HTMLElement>('[data-testid="error-banner"]');
  if (banner === null) return;
  const messages = [...new Set(failures.values())];
  banner.textContent = messages.length === 0 ? "" : `${messages.join(" · ")} (retrying)`;
  banner.hidden = messages.length === 0;
}
