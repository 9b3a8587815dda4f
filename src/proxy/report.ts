/** The shape of the proxy's state in reports. */
import type { BreakerState } from "./breaker.ts";
import type { ProxyOutcome } from "./metrics.ts";

/** The proxy's state as `GET /v1/node` and `pksn proxy status` show it. */
export interface ProxyReport {
  enabled: true;
  parent: string;
  /** Whether the node's participation mode lets look-ups leave the node now. */
  asking: boolean;
  breaker: BreakerState;
  /** When an open breaker lets the next trial request through. */
  breakerRetryAt: string | null;
  cache: {
    entries: number;
    bytes: number;
    maxEntries: number;
    maxBytes: number;
    evictions: number;
  };
  lookups: Record<ProxyOutcome, number>;
  coalesced: number;
  upstream: {
    requests: number;
    failures: number;
    waiting: number;
    inFlight: number;
    lastError: string | null;
    lastErrorAt: string | null;
  };
}
