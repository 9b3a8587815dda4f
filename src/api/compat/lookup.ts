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

/** Looks `value` up as `/v1` would; the parent is asked only for a licensed client. */
export async function lookupAs(
  deps: CompatLookupDeps,
  admission: Admission,
  type: ObjectType,
  value: string,
): Promise<LookupResult> {
  const results = [deps.reputation.lookup(type, value)];
  deps.metrics.lookupsPerMinute.add();
  if (deps.proxy !== undefined && admission === "licence" && results[0].via === "none") {
    await deps.proxy.resolve(results);
  }
  deps.metrics.verdicts.inc(type, results[0].verdict);
  return results[0];
}

/** Epoch seconds of an ISO date, or undefined. */
export function epochSeconds(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
