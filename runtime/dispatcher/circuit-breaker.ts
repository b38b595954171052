/** The circuit breaker of one replica (SPEC §5). */
export type CircuitState = "closed" | "open" | "half-open";

/** SPEC §3 `circuitBreaker`. */
export interface CircuitBreakerConfig {
  consecutiveFailures: number;
  openMs: number;
  maxOpenMs: number;
  halfOpenProbes: number;
}

/** How an invocation went, for the breaker: "neutral" when it proved nothing (e.g. only records torn down by another's timeout). */
export type InvocationVerdict = "success" | "failure" | "neutral";

/** Handed out for each invocation the breaker lets through; its result is reported with it. */
export interface CircuitPermit {
  /** Results of invocations let through before the last change of state prove nothing about the current one. */
  readonly epoch: number;
  readonly probe: boolean;
}

export interface CircuitChange {
  state: CircuitState;
  /** How long it stays open (when open). */
  openMs?: number;
}

/**
 * Closed: counts failed invocations in a row; `consecutiveFailures` of them open it. Open: nothing
 * is invoked until `openMs` has passed. Half-open: `halfOpenProbes` invocations go through; a
 * success closes it, a failure opens it again for twice as long (up to `maxOpenMs`).
 * Pure: time comes from `now`, and nothing happens between calls.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker(config, { onChange: (c) => log.warn(c, "circuit changed") });
 * const permit = breaker.acquire();
 * if (permit) breaker.record(permit, (await invoke()).ok ? "success" : "failure");
 * ```
 */
export class CircuitBreaker {
  #state: CircuitState = "closed";
  #epoch = 0;
  #failures = 0;
  #openMs: number;
  #openUntil = 0;
  #probesLeft = 0;
  readonly #now: () => number;
  readonly #onChange: (change: CircuitChange) => void;

  constructor(
    private readonly config: CircuitBreakerConfig,
    options: { now?: () => number; onChange?: (change: CircuitChange) => void } = {},
  ) {
    this.#openMs = config.openMs;
    this.#now = options.now ?? Date.now;
    this.#onChange = options.onChange ?? (() => undefined);
  }

  /** The current state; an open breaker whose time is up turns half-open here. */
  state(): CircuitState {
    if (this.#state === "open" && this.#now() >= this.#openUntil) {
      this.#probesLeft = this.config.halfOpenProbes;
      this.#transition("half-open");
    }
    return this.#state;
  }

  /** When an open breaker turns half-open (epoch ms); undefined unless open. */
  reopensAt(): number | undefined {
    return this.state() === "open" ? this.#openUntil : undefined;
  }

  /** Whether an invocation may start now (closed, or half-open with probes left). */
  canInvoke(): boolean {
    const state = this.state();
    return state === "closed" || (state === "half-open" && this.#probesLeft > 0);
  }

  /** Lets one invocation through, or undefined when the breaker does not allow one now. */
  acquire(): CircuitPermit | undefined {
    const state = this.state();
    if (state === "closed") return { epoch: this.#epoch, probe: false };
    if (state === "half-open" && this.#probesLeft > 0) {
      this.#probesLeft -= 1;
      return { epoch: this.#epoch, probe: true };
    }
    return undefined;
  }

  /** Reports how an invocation let through by `acquire` went. */
  record(permit: CircuitPermit, verdict: InvocationVerdict): void {
    const state = this.state();
    if (permit.epoch !== this.#epoch) return;
    if (state === "closed") {
      if (verdict === "success") this.#failures = 0;
      else if (verdict === "failure") {
        this.#failures += 1;
        if (this.#failures >= this.config.consecutiveFailures) this.#open(this.config.openMs);
      }
    } else if (state === "half-open") {
      if (verdict === "success") this.#close();
      else if (verdict === "failure") this.#open(Math.min(this.config.maxOpenMs, this.#openMs * 2));
      else this.#probesLeft += 1;
    }
  }

  #open(openMs: number): void {
    this.#openMs = openMs;
    this.#openUntil = this.#now() + openMs;
    this.#failures = 0;
    this.#transition("open", openMs);
  }

  #close(): void {
    this.#openMs = this.config.openMs;
    this.#failures = 0;
    this.#transition("closed");
  }

  #transition(state: CircuitState, openMs?: number): void {
    this.#state = state;
    this.#epoch += 1;
    this.#onChange(openMs === undefined ? { state } : { state, openMs });
  }
}
