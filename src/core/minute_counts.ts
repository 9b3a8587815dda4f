/**
 * Counts per minute over the last day, for the admin dashboard's chart: a ring of 1,440
 * minute slots, so counting is an array increment and memory is fixed (11 KiB).
 */
import type { Clock } from "./clock.ts";

const MINUTE_MS = 60_000;
const SLOTS = 1440;

/** A count per minute for the last 24 hours. */
export class MinuteCounts {
  readonly #clock: Clock;
  readonly #counts = new Float64Array(SLOTS);
  // The minute (ms since the epoch / 60,000) each slot holds; a slot from an older day is stale.
  readonly #minutes = new Float64Array(SLOTS).fill(-1);

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Adds `n` to the current minute. */
  add(n = 1): void {
    const minute = Math.floor(this.#clock.now() / MINUTE_MS);
    const slot = minute % SLOTS;
    if (this.#minutes[slot] !== minute) {
      this.#minutes[slot] = minute;
      this.#counts[slot] = 0;
    }
    this.#counts[slot] += n;
  }

  /** The counts of the last `minutes` minutes (at most 1,440), oldest first, this minute last. */
  last(minutes: number): number[] {
    const now = Math.floor(this.#clock.now() / MINUTE_MS);
    const span = Math.min(Math.max(1, Math.floor(minutes)), SLOTS);
    const out: number[] = new Array(span);
    for (let i = 0; i < span; i++) {
      const minute = now - span + 1 + i;
      const slot = minute % SLOTS;
      out[i] = this.#minutes[slot] === minute ? this.#counts[slot] : 0;
    }
    return out;
  }
}
