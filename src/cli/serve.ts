/**
 * A serving node assembled: the node, the API and the admin UI on one server, forwarding,
 * statistics, the mirror sync, the KSN proxy and their timers. `pksn serve` (serve_command.ts)
 * and the tests start it.
 */
import { ADMIN_ROUTE_DOCS, AdminAuth, mountAdminRoutes, SetupToken } from "../admin/mod.ts";
import { type Clock, type Config, type Logger, parseListen } from "../core/mod.ts";
import { ensureDemoLicence, seedDemo } from "../demo/mod.ts";
import { createApp } from "../api/mod.ts";
import { createHttpMetrics, readTls, type RunningServer, startServer } from "../http/mod.ts";
import { databasePath, type Node, openNode } from "../node/mod.ts";
import { openDatabase } from "../store/mod.ts";
import { syncPaths, SyncService } from "../mirror/mod.ts";
import { openStats, type Stats } from "../stats/mod.ts";
import { type KsnProxy, startProxy } from "../proxy/mod.ts";
import { type Forwarding, startForwarding } from "./forwarding.ts";
import { webUi } from "./admin_ui.ts";
import { applyBundle } from "./feed_bundle.ts";
import { join } from "node:path";
import { expireOverrides } from "../reputation/mod.ts";
import { UpgradeSpool } from "../upgrade/mod.ts";
import { type DnsServer, startDns } from "../dns/mod.ts";
import { readMirrorState } from "../feed/mod.ts";

const OVERRIDE_EXPIRY_CHECK_MS = 60_000;

/** A started node: its server and what it runs on. */
export interface ServingNode {
  node: Node;
  server: RunningServer;
  /** Samples, the upstream spool and the forwarder. */
  forwarding: Forwarding;
  /** Statistics ingestion, day files and rollover. */
  stats: Stats;
  /** The mirror sync, when `sync.url` is set. */
  sync: SyncService | null;
  /** The KSN proxy, when `proxy.enabled`. */
  proxy: KsnProxy | null;
  /** DNS look-ups and the RPZ zone, when `dns.listen` is set. */
  dns: DnsServer | null;
  /** Every route the app answers (method and path pattern), for the README's route check. */
  routes: readonly { method: string; path: string }[];
  /** Stops the server, the reload timer and closes the database. */
  stop(): Promise<void>;
}

/** Opens the node and starts serving; used by the CLI and by tests. */
export async function serveNode(
  config: Config,
  deps: {
    clock: Clock;
    log: Logger;
    demo?: boolean;
    /** The certificate and key, when the caller read them already (`serve` does, first). */
    tls?: { cert: string; key: string };
  },
): Promise<ServingNode> {
  const { clock, log } = deps;
  const node = await openNode(config, { clock, log, saveIndex: true });
  let forwarding: Forwarding | undefined;
  let stats: Stats | undefined;
  let sync: SyncService | null = null;
  let proxy: KsnProxy | null = null;
  let dns: DnsServer | null = null;
  const syncDb = config.sync.url === null
    ? null
    : openDatabase(databasePath(config.dataDir), { cacheMiB: 8 });
  try {
    if (deps.demo) {
      if (await seedDemo(node.db, clock.now())) {
        await node.refreshIndex();
        log.info('Seeded the demo data set (source "demo"); it is not real threat data');
      }
      if (!ensureDemoLicence(node, clock.now())) {
        log.warn("The demo licence was revoked or has expired; the demo curl will be refused");
      }
    }
    const metrics = createHttpMetrics(() => node.index.current, clock);
    forwarding = await startForwarding(config, {
      db: node.db,
      participation: node.participation,
      clock,
      log,
      registry: metrics.registry,
    });
    proxy = startProxy(config, {
      db: node.db,
      parent: forwarding.upstream,
      allowed: () => node.participation.allows("lookups"),
      clock,
      log,
      registry: metrics.registry,
    });
    stats = await openStats({
      dataDir: config.dataDir,
      db: node.db,
      clock,
      log,
      config: config.stats,
      registry: metrics.registry,
      onAccepted: forwarding.onStatisticsAccepted ?? undefined,
    });
    if (syncDb !== null) {
      sync = await SyncService.create({
        config: config.sync,
        dataDir: config.dataDir,
        db: syncDb,
        clock,
        log,
        registry: metrics.registry,
        mode: node.mirrorMode,
        onApplied: async () => {
          await node.refreshIndex();
        },
      });
    }
    const secure = config.tls.cert !== null;
    const admin = new AdminAuth({ db: node.db, clock, config: config.admin, secure, log });
    const setup = admin.hasAccount() ? null : new SetupToken();
    const statsDir = stats.dir;
    const samples = forwarding.samples;
    const upgrades = config.upgrade.enabled
      ? new UpgradeSpool({
        dir: join(config.dataDir, "upgrade"),
        maxBytes: config.upgrade.maxMiB * 1024 * 1024,
        clock,
      })
      : null;
    const app = createApp({
      config,
      node,
      metrics,
      log,
      routers: [
        (app, instrumentDeps) =>
          mountAdminRoutes(app, {
            ...instrumentDeps,
            auth: admin,
            setup,
            node,
            stats: { dir: statsDir, clock },
            sync,
            samples,
            bundles: config.sync.root === null ? null : {
              dir: join(config.dataDir, "uploads"),
              // A bundle holds a snapshot and the deltas after it, each at most sync.maxFileMiB.
              maxBytes: 2 * config.sync.maxFileMiB * 1024 * 1024,
              apply: async (path: string) => {
                const result = await applyBundle(config, path, log);
                await node.refreshIndex();
                return result;
              },
            },
            upgrades,
            reputation: {
              reputation: node.reputation,
              db: node.db,
              refreshIndex: () => node.refreshIndex(),
              clock,
            },
          }),
        webUi({
          auth: admin,
          node,
          clock,
          metrics,
          statsDir,
          proxy,
          sync,
          spool: forwarding.spool,
          samples,
          upgrades,
        }),
      ],
      docs: ADMIN_ROUTE_DOCS,
      samples: forwarding.samples,
      stats: stats.ingest,
      sync: sync ? () => sync!.report() : undefined,
      feedDir: config.sync.serveFeed ? syncPaths(config.dataDir).served : undefined,
      proxy: proxy ?? undefined,
    });
    const listen = parseListen(config.listen)!;
    const tls = deps.tls ?? await tlsOf(config);
    const server = startServer(app, {
      ...listen,
      tls,
      limits: config.server,
      registry: metrics.registry,
      log,
    });
    admin.origins.listening(server.url); // the bound port: port 0 picks one
    if (config.dns.listen !== null) {
      // Its own connection: the RPZ zone's journal is a temporary table of it.
      const zoneDb = openDatabase(databasePath(config.dataDir), { cacheMiB: 8 });
      try {
        dns = await startDns({
          config,
          reputation: node.reputation,
          db: node.db,
          zoneDb,
          mirrorVersion: () => readMirrorState(node.db).version,
          log,
          registry: metrics.registry,
        });
      } catch (err) {
        zoneDb.close();
        await server.shutdown();
        throw err;
      }
    }
    stats.rollover.start();
    sync?.start();
    if (setup) log.warn(`Admin setup token (one use, this run only): ${setup.value}`);
    let reloading = false;
    const timer = setInterval(async () => {
      if (reloading) return;
      reloading = true;
      try {
        sync?.refreshMode();
        const changed = await node.refreshIfChanged();
        if (changed.includes("proxy")) proxy?.reload();
      } catch (err) {
        log.error(`Cannot reload the reputation index: ${(err as Error).message}`);
      } finally {
        reloading = false;
      }
    }, config.store.reloadCheckSeconds * 1000);
    // Overrides given an expiry stop answering within a minute of it.
    const expiring = setInterval(async () => {
      try {
        if (expireOverrides(node.db, clock.now()) > 0) await node.refreshIndex();
      } catch (err) {
        log.error(`Cannot remove expired overrides: ${(err as Error).message}`);
      }
    }, OVERRIDE_EXPIRY_CHECK_MS);
    const started = forwarding;
    const openedStats = stats;
    const syncing = sync;
    const proxying = proxy;
    const answering = dns;
    const routes = app.routes.map(({ method, path }) => ({ method, path }));
    return {
      node,
      server,
      routes,
      forwarding: started,
      stats: openedStats,
      sync: syncing,
      proxy: proxying,
      dns: answering,
      async stop(): Promise<void> {
        clearInterval(timer);
        clearInterval(expiring);
        await answering?.stop();
        await syncing?.stop();
        syncDb?.close();
        await server.shutdown();
        proxying?.close();
        await started.stop();
        await openedStats.close();
        // A save under way finishes first: a file without its record would be rebuilt anyway.
        await node.indexSaved();
        node.close();
      },
    };
  } catch (err) {
    await dns?.stop();
    proxy?.close();
    await sync?.stop();
    syncDb?.close();
    await forwarding?.stop();
    await stats?.close();
    node.close();
    throw err;
  }
}

/** The certificate and key `tls.cert` and `tls.key` name, or undefined for plain HTTP. */
export function tlsOf(config: Config): Promise<{ cert: string; key: string } | undefined> {
  return config.tls.cert !== null && config.tls.key !== null
    ? readTls({ cert: config.tls.cert, key: config.tls.key })
    : Promise.resolve(undefined);
}
