/** The KSN proxy: asking the parent node what nothing here answers, with a cache. */
export { type BreakerState, CircuitBreaker } from "./breaker.ts";
export { type CachedAnswer, cacheKey, ProxyCache } from "./cache.ts";
export { PROXY_OUTCOMES, type ProxyOutcome } from "./metrics.ts";
export { ParentLookups, type SendBatch } from "./parent_lookups.ts";
export { KsnProxy } from "./proxy.ts";
export type { ProxyReport } from "./report.ts";
export { startProxy } from "./start.ts";
