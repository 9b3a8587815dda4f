/**
 * Login lock-out with back-off, per username and in memory: after `maxFailures`
 * consecutive failures the username is locked for 30 s, doubling with each
 * further failure up to 15 min. A success resets the count.
 */
import type { Clock } from "../core/mod.ts";

/** The first lock's length. */
export const BASE_LOCK_MS = 30_000;
/** The longest lock. */
export const MAX_LOCK_MS = 15 * 60_000;
// Guessing with made-up usernames must not grow memory without bound.
const MAX_TRACKED = 10_000;

interface Failures {
  count: number;
  lockedUntil: number;
}

/** Counts consecutive failed logins per username and says when one is locked. */
export class LoginLockout {
  readonly #clock: Clock;
  readonly #maxFailures: number;
  readonly #failures = new Map<string, Failures>();

  constructor(clock: Clock, maxFailures: number) {
    this.#clock = clock;
    this.#maxFailures = maxFailures;
  }

  /** Milliseconds until `username` may try again; 0 when it is not locked. */
  lockedFor(username: string): number {
    const entry = this.#failures.get(username);
    if (entry === undefined) return 0;
    return Math.max(0, entry.lockedUntil - this.#clock.now());
  }

  /** Records a failure; returns the count and the lock (ms) it starts, 0 for none. */
  fail(username: string): { failures: number; lockMs: number } {
    let entry = this.#failures.get(username);
    if (entry === undefined) {
      if (this.#failures.size >= MAX_TRACKED) this.#makeRoom();
      entry = { count: 0, lockedUntil: 0 };
      this.#failures.set(username, entry);
    }
    entry.count++;
    const lockMs = lockLength(entry.count, this.#maxFailures);
    if (lockMs > 0) entry.lockedUntil = this.#clock.now() + lockMs;
    return { failures: entry.count, lockMs };
  }

  /** Forgets the failures of `username` after a successful login. */
  succeed(username: string): void {
    this.#failures.delete(username);
  }

  #makeRoom(): void {
    const now = this.#clock.now();
    for (const [name, entry] of this.#failures) {
      if (entry.lockedUntil <= now) this.#failures.delete(name);
    }
    if (this.#failures.size >= MAX_TRACKED) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
  }
}

/** The lock after the `failures`-th consecutive failure: 2^(n − max) × 30 s, at most 15 min. */
export function lockLength(failures: number, maxFailures: number): number {
  if (failures < maxFailures) return 0;
  const doublings = failures - maxFailures;
  // 2^5 × 30 s already passes the cap; avoid computing huge powers.
  return doublings >= 5 ? MAX_LOCK_MS : Math.min(BASE_LOCK_MS * 2 ** doublings, MAX_LOCK_MS);
}
