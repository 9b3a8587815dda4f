/** Builds the KSN proxy from the configuration for `pksn serve`. */
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
}

/** The started proxy, or null when `proxy.enabled` is off. */
export function startProxy(config: Config, deps: StartProxyDeps): KsnProxy | null {
  if (!config.proxy.enabled) return null;
  if (deps.parent === null) {
    throw new ConfigError(
      'Invalid configuration "proxy.enabled": the proxy asks the parent node, so it needs ' +
        '"upstream.url" and "upstream.key"',
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
