/** Builds the KSN proxy from the configuration for `pksn serve`. */
import v8 from "node:v8";
import { type Clock, type Config, ConfigError, type Logger, type Registry } from "../core/mod.ts";
import { type DatabaseSync, ProxyCacheTable } from "../store/mod.ts";
import type { ParentLookup } from "../upstream/mod.ts";
import { KsnProxy } from "./proxy.ts";

/** What {@link startProxy} needs. */
export interface StartProxyDeps {
  db: DatabaseSync;
  /** The parent client `upstream.url` made, or null when none is set. */
  parent: (ParentLookup & { url: string }) | null;
  /** Whether look-ups may leave the node (its participation mode). */
  allowed: () => boolean;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** The JavaScript heap's limit in bytes; this process's (`--max-old-space-size`) by default. */
  heapLimitBytes?: number;
}

// The cache shares the heap with the hit cache, requests in flight and the index's work.
const CACHE_SHARE_OF_HEAP = 0.25;

/** The started proxy, or null when `proxy.enabled` is off. */
export function startProxy(config: Config, deps: StartProxyDeps): KsnProxy | null {
  if (!config.proxy.enabled) return null;
  if (deps.parent === null) {
    throw new ConfigError(
      'Invalid configuration "proxy.enabled": the proxy asks the parent node, so it needs ' +
        '"upstream.url" and "upstream.key"',
    );
  }
  const heap = deps.heapLimitBytes ?? v8.getHeapStatistics().heap_size_limit;
  const MiB = 1024 * 1024;
  if (config.proxy.cacheMiB * MiB > CACHE_SHARE_OF_HEAP * heap) {
    throw new ConfigError(
      `Invalid configuration "proxy.cacheMiB": ${config.proxy.cacheMiB} MiB is more than a quarter ` +
        `of this process's JavaScript heap (${Math.round(heap / MiB)} MiB); lower it to at most ` +
        `${Math.floor((CACHE_SHARE_OF_HEAP * heap) / MiB)}, or raise the heap with ` +
        "--v8-flags=--max-old-space-size=MiB",
    );
  }
  const proxy = new KsnProxy({
    config: config.proxy,
    parent: deps.parent,
    parentUrl: deps.parent.url,
    allowed: deps.allowed,
    table: new ProxyCacheTable(deps.db),
    clock: deps.clock,
    log: deps.log,
    registry: deps.registry,
    requestTimeoutMs: config.upstream.timeoutSeconds * 1000,
  });
  proxy.start();
  deps.log.info("KSN proxy on: look-ups nothing here answers are asked of the parent", {
    parent: deps.parent.url,
    cached: proxy.report().cache.entries,
  });
  return proxy;
}
