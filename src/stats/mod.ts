/**
 * Statistics: detection records clients send, kept as one NDJSON file per UTC
 * day and packed into one TAR archive per day once the day has ended.
 */
import type { Clock, Config, Logger, Registry } from "../core/mod.ts";
import { type DatabaseSync, StatsReceivedRepository } from "../store/mod.ts";
import { removeTemporaries } from "./archive.ts";
import { DailyFiles, repairTornLines } from "./daily_files.ts";
import { type OnAccepted, StatsIngest } from "./ingest.ts";
import { archiveDir, statsDir } from "./layout.ts";
import { Rollover } from "./rollover.ts";
import { createStatsMetrics, type StatsMetrics } from "./stats_metrics.ts";

export { MANIFEST, type Manifest, ndjsonName, packDay, readManifest } from "./archive.ts";
export {
  archiveOf,
  type DayCounts,
  dayCounts,
  type DayListing,
  exportDay,
  listDays,
} from "./catalog.ts";
export { type Appended, DailyFiles, type Repair, repairTornLines } from "./daily_files.ts";
export {
  type AcceptedBatch,
  type BatchResult,
  type OnAccepted,
  parseIdempotencyKey,
  type RecordError,
  StatsIngest,
} from "./ingest.ts";
export { archiveFile, dayFile, isDate, parseDate, statsDir, utcDate } from "./layout.ts";
export {
  checkRecord,
  DECISIONS,
  DETECTION_TYPES,
  fileExtension,
  STATISTICS_VERSION,
  type StatsRecord,
  stripUrl,
} from "./record.ts";
export { applyRetention, type Removed, type RetentionLimits } from "./retention.ts";
export { Rollover, type RolloverReport } from "./rollover.ts";
export { createStatsMetrics, type StatsMetrics } from "./stats_metrics.ts";

/** What {@link openStats} needs. */
export interface StatsDeps {
  dataDir: string;
  db: DatabaseSync;
  clock: Clock;
  log: Logger;
  config: Config["stats"];
  /** Where the counters are exposed (the node's `/metrics`). */
  registry?: Registry;
  /** Called with every batch's accepted records once they are on disk. */
  onAccepted?: OnAccepted;
}

/** The running statistics pipeline. */
export interface Stats {
  /** `DATA/stats`. */
  readonly dir: string;
  readonly ingest: StatsIngest;
  readonly files: DailyFiles;
  readonly rollover: Rollover;
  readonly metrics: StatsMetrics;
  /** Stops the rollover timer, finishes queued writes and closes the day files. */
  close(): Promise<void>;
}

/**
 * Opens the statistics folder: cuts torn last lines off the day files (a crash
 * mid-write), removes half-written archives and packs every day but today.
 * A day that cannot be packed is logged, not thrown: statistics must not keep
 * the node from starting, and the rollover timer tries again. The timer is not
 * started; call `rollover.start()`.
 */
export async function openStats(deps: StatsDeps): Promise<Stats> {
  const { clock, log, config } = deps;
  const dir = statsDir(deps.dataDir);
  await Deno.mkdir(archiveDir(dir), { recursive: true });
  const metrics = createStatsMetrics(deps.registry);
  for (const repair of await repairTornLines(dir)) {
    metrics.tornLines.inc();
    log.warn(`Repaired a torn last line in statistics file "${repair.path}"`, {
      removedBytes: repair.removedBytes,
    });
  }
  for (const name of await removeTemporaries(dir)) {
    log.warn(`Removed the half-written statistics archive "${name}"`);
  }
  const files = new DailyFiles(dir, clock);
  const received = new StatsReceivedRepository(deps.db);
  const rollover = new Rollover({
    files,
    clock,
    log,
    limits: { days: config.retentionDays, bytes: config.retentionBytes },
    received,
    metrics,
  });
  await rollover.tryRun();
  const ingest = new StatsIngest({
    files,
    received,
    clock,
    log,
    metrics,
    onAccepted: deps.onAccepted,
  });
  return {
    dir,
    ingest,
    files,
    rollover,
    metrics,
    async close(): Promise<void> {
      await rollover.stop();
      await files.close();
    },
  };
}
