/**
 * The KSN proxy: a look-up that no override and no mirror record answered is answered from
 * the proxy cache, else asked of the parent node. A client waits for the parent at most
 * `timeoutMs`; when the parent fails, is too slow or its breaker is open, the client gets a
 * cached answer past its TTL (`stale: true`) if one is kept, else the local answer.
 */
import type { Clock, Config, Logger, Registry } from "../core/mod.ts";
import type { LookupItemError, LookupResult } from "../reputation/mod.ts";
import type { ParentAnswer, ParentLookup, ParentLookupItem } from "../upstream/mod.ts";
import { CircuitBreaker } from "./breaker.ts";
import { type CachedAnswer, cacheKey, ProxyCache } from "./cache.ts";
import {
  createProxyMetrics,
  PROXY_OUTCOMES,
  type ProxyMetrics,
  type ProxyOutcome,
} from "./metrics.ts";
import { ParentLookups } from "./parent_lookups.ts";
import type { ProxyReport } from "./report.ts";
import type { ProxyCacheTable } from "../store/mod.ts";

/** What {@link KsnProxy} needs. */
export interface KsnProxyDeps {
  config: Config["proxy"];
  parent: ParentLookup;
  /** The parent's URL, for reports and messages. */
  parentUrl: string;
  /** Whether look-ups may leave the node (its participation mode); asked every time. */
  allowed: () => boolean;
  table: ProxyCacheTable;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** A number in [0, 1) for the breaker's jitter; tests pass a fixed one. */
  random?: () => number;
  /** Upper bound of one request to the parent, in milliseconds (`upstream.timeoutSeconds`). */
  requestTimeoutMs: number;
}

// A stale answer is a stopgap: clients should come back soon for a fresh one.
const STALE_TTL_SECONDS = 60;
// Requests to the parent at once; more misses wait (bounded below) for a free slot.
const MAX_IN_FLIGHT = 8;
// How often cache changes are written to the database, and how many in one transaction before
// look-ups get their turn again (writing 3,400 at once put 30 ms on the p99 of a busy node).
const FLUSH_EVERY_MS = 1000;
const FLUSH_CHUNK = 64;

/** The KSN proxy over one parent. */
export class KsnProxy {
  readonly #d: KsnProxyDeps;
  readonly #cache: ProxyCache;
  readonly #breaker: CircuitBreaker;
  readonly #lookups: ParentLookups;
  readonly #metrics: ProxyMetrics;
  readonly #requestTimeoutMs: number;
  #requests = 0;
  #failures = 0;
  #lastError: { message: string; at: number } | null = null;
  #flushing: ReturnType<typeof setInterval> | undefined;
  #writing = false;

  constructor(deps: KsnProxyDeps) {
    this.#d = deps;
    const { config, clock, log } = deps;
    this.#cache = new ProxyCache({
      table: deps.table,
      clock,
      log,
      maxEntries: config.cacheEntries,
      maxBytes: config.cacheMiB * 1024 * 1024,
      staleMs: config.staleSeconds * 1000,
    });
    this.#breaker = new CircuitBreaker({
      failures: config.breakerFailures,
      openMs: config.breakerOpenSeconds * 1000,
      clock,
      random: deps.random,
      onChange: (state) => log.info(`KSN proxy: the parent's circuit breaker is ${state}`),
    });
    // The parent's answer still fills the cache after a client stopped waiting, so a
    // request may take longer than a client waits; but not forever.
    this.#requestTimeoutMs = Math.min(deps.requestTimeoutMs, Math.max(5000, 10 * config.timeoutMs));
    this.#lookups = new ParentLookups({
      send: (items) => this.#send(items),
      windowMs: config.batchWindowMs,
      maxBatchItems: config.maxBatchItems,
      maxInFlight: MAX_IN_FLIGHT,
      maxWaiting: MAX_IN_FLIGHT * config.maxBatchItems,
    });
    this.#metrics = createProxyMetrics(deps.registry, () => ({
      cache: this.#cache.size,
      breaker: this.#breaker.state,
      coalesced: this.#lookups.coalesced,
    }));
  }

  /** Loads the cache from the database and starts writing its changes back. */
  start(): void {
    this.#cache.load();
    this.#flushing ??= setInterval(() => this.#flushInChunks(), FLUSH_EVERY_MS);
  }

  /**
   * Loads the cache again because another process cleared rows; answers received since the
   * last write are written first, so they are kept.
   */
  reload(): void {
    this.#flush();
    this.#cache.load();
  }

  /** Stops asking the parent and writes the cache's last changes. */
  close(): void {
    clearInterval(this.#flushing);
    this.#flushing = undefined;
    this.#lookups.close();
    this.#flush();
  }

  /**
   * Replaces, in place, every result that nobody answered (`via: "none"`) with the proxy's
   * answer. Resolves within `timeoutMs`, whatever the parent does.
   */
  async resolve(results: (LookupResult | LookupItemError)[]): Promise<void> {
    const now = this.#d.clock.now();
    const counts = this.#metrics.lookups;
    let waits: Promise<void>[] | undefined;
    let waiting: Map<number, CachedAnswer | undefined> | undefined;
    let finished = false;
    for (let i = 0; i < results.length; i++) {
      const local = results[i];
      if (!("via" in local) || local.via !== "none") continue;
      const cached = this.#cache.get(cacheKey(local.type, local.value));
      if (cached !== undefined && cached.expiresAt > now) {
        results[i] = fromCache(cached, now);
        counts.inc("hit");
        continue;
      }
      if (!this.#d.allowed()) {
        counts.inc("not_allowed");
        continue;
      }
      if (this.#breaker.open) {
        results[i] = this.#fallback(local, cached, "breaker_open");
        continue;
      }
      const asked = this.#lookups.ask({ type: local.type, value: local.value });
      if (asked === undefined) {
        results[i] = this.#fallback(local, cached, "shed");
        continue;
      }
      waits ??= [];
      waiting ??= new Map();
      waiting.set(i, cached);
      waits.push(asked.then((answer) => {
        if (finished) return;
        waiting!.delete(i);
        if (answer !== null) {
          results[i] = { ...answer, via: "upstream" };
          counts.inc("upstream");
        } else {
          results[i] = this.#fallback(local, cached, "failed");
        }
      }));
    }
    if (waits === undefined || waiting === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise((resolve) => timer = setTimeout(resolve, this.#d.config.timeoutMs)),
    ]);
    clearTimeout(timer);
    finished = true;
    for (const [i, cached] of waiting) {
      const local = results[i] as LookupResult;
      results[i] = cached !== undefined
        ? this.#fallback(local, cached, "timeout")
        : { ...local, proxyTimeout: true };
      if (cached === undefined) counts.inc("timeout");
    }
  }

  /** The state for reports. */
  report(): ProxyReport {
    const lookups = {} as Record<ProxyOutcome, number>;
    for (const o of PROXY_OUTCOMES) lookups[o] = this.#metrics.lookups.get(o);
    const retryAt = this.#breaker.retryAt;
    return {
      enabled: true,
      parent: this.#d.parentUrl,
      asking: this.#d.allowed(),
      breaker: this.#breaker.state,
      breakerRetryAt: retryAt === null ? null : new Date(retryAt).toISOString(),
      cache: {
        ...this.#cache.size,
        maxEntries: this.#d.config.cacheEntries,
        maxBytes: this.#d.config.cacheMiB * 1024 * 1024,
      },
      lookups,
      coalesced: this.#lookups.coalesced,
      upstream: {
        requests: this.#requests,
        failures: this.#failures,
        ...this.#lookups.load,
        lastError: this.#lastError?.message ?? null,
        lastErrorAt: this.#lastError ? new Date(this.#lastError.at).toISOString() : null,
      },
    };
  }

  /** A cached answer past its TTL when one is kept, else the local answer; counted. */
  #fallback(
    local: LookupResult,
    cached: CachedAnswer | undefined,
    why: ProxyOutcome,
  ): LookupResult {
    if (cached === undefined) {
      this.#metrics.lookups.inc(why);
      return local;
    }
    this.#metrics.lookups.inc("stale");
    return {
      ...cached.answer,
      ttl: Math.min(cached.answer.ttl ?? 0, STALE_TTL_SECONDS),
      via: "cache",
      stale: true,
    };
  }

  /** One request to the parent: counted, timed, and its answers cached. */
  async #send(items: readonly ParentLookupItem[]): Promise<(ParentAnswer | null)[]> {
    if (!this.#breaker.tryRequest()) return [];
    const { clock, config } = this.#d;
    const started = performance.now();
    this.#requests++;
    this.#metrics.items.inc("", "", items.length);
    try {
      const answers = await this.#d.parent.lookupBatch(items, this.#requestTimeoutMs);
      this.#metrics.seconds.observe((performance.now() - started) / 1000);
      this.#metrics.requests.inc("ok");
      this.#breaker.succeeded();
      const now = clock.now();
      for (let i = 0; i < items.length; i++) {
        const answer = answers[i];
        if (answer === null) continue;
        const ttl = answer.verdict === "unknown"
          ? config.unknownTtlSeconds
          : answer.ttl ?? config.maxTtlSeconds;
        const expiresAt = now + Math.min(ttl, config.maxTtlSeconds) * 1000;
        this.#cache.put(items[i].type, items[i].value, answer, expiresAt);
      }
      return answers;
    } catch (err) {
      this.#metrics.requests.inc("error");
      this.#failures++;
      this.#breaker.failed();
      const message = (err as Error).message;
      // One line per failure would flood the log during an outage: the first of a run only.
      if (this.#lastError === null || this.#breaker.state === "closed") {
        this.#d.log.warn(`KSN proxy: ${message}`);
      }
      this.#lastError = { message, at: clock.now() };
      throw err;
    }
  }

  /** Writes every pending change now (at reload and close). */
  #flush(): void {
    try {
      this.#cache.flush();
    } catch (err) {
      // Kept in memory and tried again at the next flush.
      this.#d.log.warn(`KSN proxy: cannot write the cache: ${(err as Error).message}`);
    }
  }

  /** Writes pending changes a chunk at a time, letting look-ups run between chunks. */
  async #flushInChunks(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#flushing !== undefined && this.#cache.flush(FLUSH_CHUNK) > 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    } catch (err) {
      this.#d.log.warn(`KSN proxy: cannot write the cache: ${(err as Error).message}`);
    } finally {
      this.#writing = false;
    }
  }
}

/** A fresh cached answer, its TTL cut to what is left of the cached one. */
function fromCache(cached: CachedAnswer, now: number): LookupResult {
  const left = Math.ceil((cached.expiresAt - now) / 1000);
  const ttl = Math.min(cached.answer.ttl ?? left, left);
  return { ...cached.answer, ttl, via: "cache" };
}
