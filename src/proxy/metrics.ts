/** The proxy's Prometheus series. */
import { Counter, Gauge, Histogram, type Registry } from "../core/mod.ts";
import type { BreakerState } from "./breaker.ts";

/** How one look-up went through the proxy, as `pksn_proxy_lookups_total{outcome}` counts it. */
export const PROXY_OUTCOMES = [
  "hit",
  "upstream",
  "stale",
  "timeout",
  "failed",
  "breaker_open",
  "not_allowed",
  "shed",
] as const;
/** One of {@link PROXY_OUTCOMES}. */
export type ProxyOutcome = typeof PROXY_OUTCOMES[number];

/** The proxy's counters and histogram; gauges read the live state at scrape time. */
export interface ProxyMetrics {
  lookups: Counter;
  requests: Counter;
  items: Counter;
  seconds: Histogram;
}

const BREAKER_CODE: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

/** Registers the proxy's series; `read` gives the cache's and breaker's state when scraped. */
export function createProxyMetrics(
  registry: Registry,
  read: () => {
    cache: { entries: number; bytes: number; evictions: number };
    breaker: BreakerState;
    coalesced: number;
  },
): ProxyMetrics {
  const gauge = (name: string, help: string, value: () => number): void => {
    registry.register(new Gauge(name, help, [], () => [[[], value()]]));
  };
  gauge("pksn_proxy_cache_entries", "Answers in the proxy cache", () => read().cache.entries);
  gauge("pksn_proxy_cache_bytes", "Estimated memory of the proxy cache", () => read().cache.bytes);
  gauge(
    "pksn_proxy_cache_evictions",
    "Entries evicted from the proxy cache for room since start",
    () => read().cache.evictions,
  );
  gauge(
    "pksn_proxy_coalesced",
    "Misses that shared a question already asked of the parent, since start",
    () => read().coalesced,
  );
  gauge(
    "pksn_proxy_breaker_state",
    "The parent's circuit breaker: 0 closed, 1 half-open, 2 open",
    () => BREAKER_CODE[read().breaker],
  );
  return {
    lookups: registry.register(
      new Counter(
        "pksn_proxy_lookups_total",
        `Look-ups no override or mirror record answered, by what the proxy did: ${
          PROXY_OUTCOMES.join(", ")
        }`,
        ["outcome"],
      ),
    ),
    requests: registry.register(
      new Counter(
        "pksn_proxy_upstream_requests_total",
        "Requests to the parent's POST /v1/lookup, by result (ok, error)",
        ["result"],
      ),
    ),
    items: registry.register(
      new Counter("pksn_proxy_upstream_items_total", "Objects asked of the parent"),
    ),
    seconds: registry.register(
      new Histogram(
        "pksn_proxy_upstream_seconds",
        "Time the parent took to answer a request",
        [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      ),
    ),
  };
}
