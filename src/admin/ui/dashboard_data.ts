/**
 * What the dashboard shows, gathered from the running node's parts. `pksn serve` hands in
 * the sources it has; a part the node does not run (the proxy, the sync, a parent) is absent
 * and the dashboard says so.
 */
import { join } from "node:path";
import type { Clock } from "../../core/mod.ts";
import type { Node } from "../../node/mod.ts";
import { databasePath } from "../../node/mod.ts";
import { listDays, utcDate } from "../../stats/mod.ts";
import type { SpoolTotals } from "../../store/mod.ts";

/** The sources the dashboard reads; each one optional part is null when the node lacks it. */
export interface DashboardSources {
  node: Pick<Node, "licences" | "index" | "config">;
  clock: Clock;
  lookupsPerMinute: { last(minutes: number): number[] };
  /** Verdicts served since start, by verdict. */
  verdicts: () => Record<string, number>;
  proxy: (() => { lookups: Record<string, number>; cache: { entries: number } }) | null;
  sync:
    | (() => {
      state: string;
      version: number;
      upstreamVersion: number;
      lastSuccess: string | null;
      lastError: string | null;
    })
    | null;
  spool: (() => { totals: SpoolTotals; lastError: string | null }) | null;
  statsDir: string;
  /** Bytes the sample quarantine holds, from its index (walking its files would cost a read a sample). */
  quarantineBytes: () => number;
}

/** The figures one dashboard render shows. */
export interface DashboardFigures {
  lookupsPerMinute: number[];
  verdicts: Record<string, number>;
  proxy: { hitRatio: number | null; entries: number } | null;
  mirror: { records: number; builtAt: string };
  sync: ReturnType<NonNullable<DashboardSources["sync"]>> | null;
  upstream: {
    url: string | null;
    spoolEntries: number;
    spoolBytes: number;
    lastError: string | null;
  } | null;
  licences: { active: number; expiringSoon: number; expired: number; revoked: number };
  statisticsToday: number;
  disk: { database: number; archives: number; quarantine: number };
}

const DAY_S = 86_400;

/** Reads every figure once. */
export async function dashboardFigures(s: DashboardSources): Promise<DashboardFigures> {
  const now = s.clock.now();
  const nowS = Math.floor(now / 1000);
  const licences = { active: 0, expiringSoon: 0, expired: 0, revoked: 0 };
  for (const l of s.node.licences.list()) {
    if (l.status === "revoked") licences.revoked++;
    else if (l.status === "expired") licences.expired++;
    else if (l.status === "active") {
      licences.active++;
      if (Date.parse(l.expires) / 1000 - nowS <= 30 * DAY_S) licences.expiringSoon++;
    }
  }
  const index = s.node.index.current;
  let records = 0;
  for (const c of Object.values(index.counts)) records += c.mirror + c.local;
  const proxy = s.proxy?.() ?? null;
  const hits = proxy ? (proxy.lookups.hit ?? 0) : 0;
  const asked = proxy ? (proxy.lookups.upstream ?? 0) : 0;
  const spool = s.spool?.() ?? null;
  const today = utcDate(now);
  const days = await listDays(s.statsDir).catch(() => []);
  const dataDir = s.node.config.dataDir;
  const db = databasePath(dataDir);
  return {
    lookupsPerMinute: s.lookupsPerMinute.last(1440),
    verdicts: s.verdicts(),
    proxy: proxy
      ? {
        hitRatio: hits + asked === 0 ? null : hits / (hits + asked),
        entries: proxy.cache.entries,
      }
      : null,
    mirror: { records, builtAt: new Date(index.builtAt).toISOString() },
    sync: s.sync?.() ?? null,
    upstream: spool
      ? {
        url: s.node.config.upstream.url,
        spoolEntries: spool.totals.statistics.entries + spool.totals.sample.entries,
        spoolBytes: spool.totals.statistics.bytes + spool.totals.sample.bytes,
        lastError: spool.lastError,
      }
      : null,
    licences,
    statisticsToday: days.find((d) => d.date === today)?.records ?? 0,
    disk: {
      database: await size(db) + await size(`${db}-wal`),
      archives: await folderSize(s.statsDir),
      quarantine: s.quarantineBytes(),
    },
  };
}

async function size(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** Bytes of the files under `dir`, or 0 when it does not exist. */
async function folderSize(dir: string): Promise<number> {
  let total = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) total += await folderSize(path);
      else if (entry.isFile) total += await size(path);
    }
  } catch {
    // Absent or unreadable: nothing to count.
  }
  return total;
}
