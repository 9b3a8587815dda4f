/** Requests-per-minute quotas of licences: one fixed one-minute window each. Private to licences/. */
import { AppError } from "../core/mod.ts";

interface Window {
  start: number;
  count: number;
}

/** Counts each licence's requests in its current minute. */
export class QuotaWindows {
  // One entry per licence that has a quota and was used: bounded by the licences registered.
  readonly #windows = new Map<number, Window>();

  /** Counts a request; 429 `rate_limited` with `Retry-After` once the minute's quota is used. */
  count(licenceId: number, perMinute: number, nowMs: number): void {
    let window = this.#windows.get(licenceId);
    if (window === undefined) {
      window = { start: nowMs, count: 0 };
      this.#windows.set(licenceId, window);
    }
    if (nowMs - window.start >= 60_000) {
      window.start = nowMs;
      window.count = 0;
    }
    if (++window.count > perMinute) {
      const retry = Math.max(1, Math.ceil((window.start + 60_000 - nowMs) / 1000));
      throw new AppError(
        "rate_limited",
        "rate_limited",
        `Licence quota of ${perMinute} requests per minute is used up; retry in ${retry} s`,
        { retryAfter: retry },
      );
    }
  }
}
