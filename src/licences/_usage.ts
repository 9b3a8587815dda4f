/** Requests per licence since the node started, for the operator's licence list. Private to licences/. */

/** What one licence did since start; `lastSeen` in ms since the epoch. */
export interface LicenceUsage {
  requests: number;
  lastSeen: number;
}

/** One entry per licence that made an authenticated request: bounded by the licences registered. */
export class UsageCounts {
  readonly #counts = new Map<number, LicenceUsage>();

  /** Counts one request of licence `id` at `nowMs`. */
  count(id: number, nowMs: number): void {
    const used = this.#counts.get(id);
    if (used === undefined) this.#counts.set(id, { requests: 1, lastSeen: nowMs });
    else {
      used.requests++;
      used.lastSeen = nowMs;
    }
  }

  /** Licence `id`'s usage, or null when it made no request since start. */
  of(id: number): LicenceUsage | null {
    return this.#counts.get(id) ?? null;
  }
}
