/** How long a failed upstream send waits before the next attempt. */

/** The longest wait between attempts, and the wait after a permanent failure: 10 minutes. */
export const MAX_BACKOFF_MS = 600_000;

/** The longest `Retry-After` honoured, so a confused parent cannot stall the spool for days. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** What {@link retryDelayMs} needs besides the attempt number. */
export interface BackoffOptions {
  /** The wait after the first failure, before jitter. */
  baseMs: number;
  /** A number in [0, 1): spreads retries of many nodes over the second half of each wait. */
  random: number;
  /** The parent's `Retry-After`, when it sent one: the wait is at least that long. */
  retryAfterSeconds?: number | null;
}

/**
 * The wait after failed attempt number `attempt` (1 for the first failure):
 * `baseMs` doubled per attempt, capped at {@link MAX_BACKOFF_MS}, with "equal
 * jitter" (between half and all of it), and never shorter than `Retry-After`.
 */
export function retryDelayMs(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(MAX_BACKOFF_MS, options.baseMs * 2 ** exponent);
  const jittered = Math.ceil(ceiling / 2 + options.random * (ceiling / 2));
  const asked = options.retryAfterSeconds ?? null;
  if (asked === null) return jittered;
  return Math.max(jittered, Math.min(asked * 1000, MAX_RETRY_AFTER_MS));
}
