/** Time as a dependency, so tests can hand in a fake one. */

/** Milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
