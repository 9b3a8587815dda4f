/**
 * The circuit breaker in front of the parent: after `failures` failed requests in a row it
 * opens, and for `openMs` (plus up to 20% jitter, so a fleet of edge nodes does not come back
 * in step) nobody asks the parent and no client waits for it. Then one request is let through
 * (half-open): its success closes the breaker, its failure opens it again.
 */
import type { Clock } from "../core/mod.ts";

/** `closed`: ask the parent; `open`: do not; `half-open`: one trial request is out. */
export type BreakerState = "closed" | "open" | "half-open";

/** What {@link CircuitBreaker} needs. */
export interface BreakerOptions {
  failures: number;
  openMs: number;
  clock: Clock;
  /** A number in [0, 1); tests pass a fixed one. */
  random?: () => number;
  onChange?: (state: BreakerState) => void;
}

const JITTER = 0.2;

/** Counts failures in a row and decides whether the parent may be asked. */
export class CircuitBreaker {
  readonly #options: BreakerOptions;
  readonly #random: () => number;
  #state: BreakerState = "closed";
  #failures = 0;
  #openUntil = 0;
  #trialOut = false;

  constructor(options: BreakerOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** The state now; an open breaker whose time is up reads as half-open. */
  get state(): BreakerState {
    if (this.#state === "open" && this.#options.clock.now() >= this.#openUntil) {
      this.#set("half-open");
      this.#trialOut = false;
    }
    return this.#state;
  }

  /** Whether a client may wait for the parent now (no request is taken). */
  get open(): boolean {
    const state = this.state;
    return state === "open" || (state === "half-open" && this.#trialOut);
  }

  /**
   * Takes the right to send one request: always when closed, once when half-open, never
   * when open.
   */
  tryRequest(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#trialOut) return false;
    this.#trialOut = true;
    return true;
  }

  /** A request succeeded. */
  succeeded(): void {
    this.#failures = 0;
    this.#trialOut = false;
    if (this.#state !== "closed") this.#set("closed");
  }

  /** A request failed. */
  failed(): void {
    // Requests sent before it opened fail late: the breaker is open already, and stays as set.
    if (this.#state === "open") return;
    this.#failures++;
    this.#trialOut = false;
    if (this.#state === "half-open" || this.#failures >= this.#options.failures) {
      const { openMs, clock } = this.#options;
      this.#openUntil = clock.now() + openMs * (1 + JITTER * this.#random());
      this.#set("open");
    }
  }

  /** When an open breaker lets the next trial through (ms since the epoch), else null. */
  get retryAt(): number | null {
    return this.state === "open" ? this.#openUntil : null;
  }

  #set(state: BreakerState): void {
    this.#state = state;
    this.#options.onChange?.(state);
  }
}
