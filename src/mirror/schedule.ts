/**
 * When to poll next: every interval with jitter after a success, exponential
 * back-off with a cap after failures, never sooner than the publisher's minimum
 * wait or the server's `Retry-After`.
 */
import { backoffCeiling } from "../core/mod.ts";

/** The inputs of {@link nextPollSeconds}. */
export interface ScheduleInput {
  intervalSeconds: number;
  /** Share of the interval polls are spread by (0.1 = ±10 %). */
  jitter: number;
  maxBackoffSeconds: number;
  consecutiveFailures: number;
  /** From the last accepted timestamp. */
  minPollSeconds: number;
  /** From the last failed answer, if it said. */
  retryAfterSeconds: number | null;
}

/** Seconds until the next poll; `random` returns [0, 1). */
export function nextPollSeconds(input: ScheduleInput, random: () => number): number {
  const spread = 1 + input.jitter * (2 * random() - 1);
  let wait: number;
  if (input.consecutiveFailures === 0) {
    wait = input.intervalSeconds * spread;
  } else {
    const base = Math.min(30, input.intervalSeconds);
    wait = backoffCeiling(input.consecutiveFailures, base, input.maxBackoffSeconds) * spread;
  }
  wait = Math.max(wait, input.minPollSeconds);
  if (input.retryAfterSeconds !== null) wait = Math.max(wait, input.retryAfterSeconds);
  return wait;
}

/** Seconds until the first poll after start: spread so a fleet restarted together does not poll together. */
export function firstPollSeconds(maxSeconds: number, random: () => number): number {
  return maxSeconds * random();
}
