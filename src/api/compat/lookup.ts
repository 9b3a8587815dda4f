/** One look-up for a compatible route: the same code, counters and proxy rules as `/v1`. */
import type { HttpMetrics } from "../../http/mod.ts";
import type { LookupResult, ObjectType, Reputation } from "../../reputation/mod.ts";
import type { LookupProxy } from "../objects.ts";
import type { Admission, CompatAccess } from "./access.ts";

/** What a compatible router needs for look-ups. */
export interface CompatLookupDeps {
  reputation: Reputation;
  metrics: HttpMetrics;
  access: CompatAccess;
  /** The KSN proxy, asked only for licensed clients (see access.ts). */
  proxy?: LookupProxy;
  maxBatchItems: number;
  maxBodyBytes: number;
}

/**
 * Looks `value` up as `/v1` would; the parent is asked only for a licensed client. A promise
 * only when the parent is asked, so an answer from here costs no microtask, as on `/v1`.
 */
export function lookupAs(
  deps: CompatLookupDeps,
  admission: Admission,
  type: ObjectType,
  value: string,
): LookupResult | Promise<LookupResult> {
  const result = deps.reputation.lookup(type, value);
  deps.metrics.lookupsPerMinute.add();
  if (deps.proxy === undefined || admission !== "licence" || result.via !== "none") {
    deps.metrics.verdicts.inc(type, result.verdict);
    return result;
  }
  const results = [result];
  return deps.proxy.resolve(results).then(() => {
    deps.metrics.verdicts.inc(type, results[0].verdict);
    return results[0];
  });
}

/**
 * Looks `values` up together, as `/v1/lookup` does: what nothing here answers goes to the parent
 * in one request (for a licensed client), not one request a value.
 */
export async function lookupAllAs(
  deps: CompatLookupDeps,
  admission: Admission,
  type: ObjectType,
  values: readonly string[],
): Promise<LookupResult[]> {
  const results = values.map((value) => deps.reputation.lookup(type, value));
  deps.metrics.lookupsPerMinute.add(results.length);
  if (
    deps.proxy !== undefined && admission === "licence" && results.some((r) => r.via === "none")
  ) {
    await deps.proxy.resolve(results);
  }
  for (const result of results) deps.metrics.verdicts.inc(type, result.verdict);
  return results;
}

/** `then(value)` now when `value` is a plain value, after it settles when it is a promise. */
export function whenReady<T, R>(value: T | Promise<T>, then: (value: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}

/** Epoch seconds of an ISO date, or undefined. */
export function epochSeconds(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
