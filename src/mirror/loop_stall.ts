/**
 * How long the event loop was held up while a version was applied, measured in
 * the process that applies it: a timer notes how late each of its ticks fires.
 * On a serving node that is how long a look-up could wait behind the apply.
 */

/** Ticks this far apart; a tick this late or less counts as no stall. */
const TICK_MS = 10;

/** Watches the event loop from `start` until `stop`. */
export class LoopStallMeter {
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = 0;
  #longest = 0;

  /** Starts watching. */
  start(): void {
    this.#last = performance.now();
    this.#longest = 0;
    this.#timer = setInterval(() => this.#note(), TICK_MS);
  }

  /** Stops watching; the longest stall seen, in milliseconds. */
  stop(): number {
    // The stretch since the last tick counts too: the apply's last chunk may end in it.
    this.#note();
    clearInterval(this.#timer);
    this.#timer = undefined;
    return Math.round(this.#longest);
  }

  #note(): void {
    const now = performance.now();
    this.#longest = Math.max(this.#longest, now - this.#last - TICK_MS);
    this.#last = now;
  }
}
