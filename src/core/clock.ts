/** Time as a dependency, so tests can hand in a fake one. */

/** Milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Unix seconds as an ISO 8601 UTC time without milliseconds ("2026-12-02T18:30:00Z"). */
export function isoSeconds(seconds: number): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}
