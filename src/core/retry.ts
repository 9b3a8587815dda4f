/** Retrying after failures: exponential back-off with jitter, and the server's `Retry-After`. */

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
  const ceiling = backoffCeiling(attempt, options.baseMs, MAX_BACKOFF_MS);
  const jittered = Math.ceil(ceiling / 2 + options.random * (ceiling / 2));
  const asked = options.retryAfterSeconds ?? null;
  if (asked === null) return jittered;
  return Math.max(jittered, Math.min(asked * 1000, MAX_RETRY_AFTER_MS));
}

/** `base` doubled for each failure after the first (`failures` counts from 1), capped at `max`. */
export function backoffCeiling(failures: number, base: number, max: number): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(max, base * 2 ** exponent);
}

// The IMF-fixdate form every HTTP/1.1 sender must use: "Sun, 06 Nov 1994 08:49:37 GMT".
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Reads `Retry-After` (seconds or an HTTP date) as whole seconds from `nowMs`, or null. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text);
  if (!HTTP_DATE.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
