/**
 * The date change: every day file but today's is packed into its archive, then
 * retention runs and old idempotency keys are forgotten. It runs at start and
 * from a timer that checks the injected clock at least once a minute, so a
 * clock that jumps (or a machine that slept) still rolls over. A day that
 * cannot be packed is logged and left in its day file; the other days, the
 * retention and the pruning go ahead, and the timer tries that day again.
 */
import { AppError, type Clock, type Logger, quote } from "../core/mod.ts";
import type { StatsReceivedRepository } from "../store/mod.ts";
import { packDay } from "./archive.ts";
import type { DailyFiles } from "./daily_files.ts";
import { archiveDir, archiveFile, dayFileDates, utcDate } from "./layout.ts";
import { applyRetention, type Removed, type RetentionLimits } from "./retention.ts";
import type { StatsMetrics } from "./stats_metrics.ts";

/** What {@link Rollover} needs. */
export interface RolloverDeps {
  files: DailyFiles;
  clock: Clock;
  log: Logger;
  limits: RetentionLimits;
  received: StatsReceivedRepository;
  metrics: StatsMetrics;
}

/** What one rollover did. */
export interface RolloverReport {
  today: string;
  packed: string[];
  /** Past days that could not be packed; their day files stay and the timer retries them. */
  failed: string[];
  removed: Removed[];
}

const DAY_MS = 86_400_000;
const MAX_TICK_MS = 60_000;

/** Packs closed days and applies retention, now or whenever the date changes. */
export class Rollover {
  readonly #deps: RolloverDeps;
  #lastDate = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<RolloverReport> | undefined;
  /** The last run left work undone: the timer runs again without waiting for the date to change. */
  #retry = false;

  constructor(deps: RolloverDeps) {
    this.#deps = deps;
  }

  /**
   * Runs one rollover with no write in progress. A day that cannot be packed is
   * logged and listed in `failed`, not thrown; it rejects only when the
   * statistics folder cannot be listed or old idempotency keys cannot be pruned.
   */
  run(): Promise<RolloverReport> {
    this.#running ??= this.#deps.files.exclusive(() => this.#roll()).catch((err) => {
      this.#retry = true;
      throw err;
    }).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Runs one rollover and logs a failure instead of throwing it; the timer tries again. */
  async tryRun(): Promise<RolloverReport | null> {
    try {
      return await this.run();
    } catch (err) {
      // The day files stay where they are meanwhile.
      const why = (err as Error)?.message ?? String(err);
      const dir = quote(this.#deps.files.dir, Infinity);
      this.#deps.log.error(
        `Cannot roll statistics over, will retry within a minute: ${why}; ` +
          `check free space and the permissions of ${dir}`,
      );
      return null;
    }
  }

  /** Starts the timer; `stop` ends it. */
  start(): void {
    this.#lastDate ||= utcDate(this.#deps.clock.now());
    this.#schedule();
  }

  /** Stops the timer and waits for a rollover in progress. */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  #schedule(): void {
    const now = this.#deps.clock.now();
    const untilMidnight = DAY_MS - (now % DAY_MS);
    const timer = setTimeout(() => this.#tick(), Math.min(untilMidnight + 50, MAX_TICK_MS));
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  async #tick(): Promise<void> {
    if (this.#timer === undefined) return;
    if (this.#retry || utcDate(this.#deps.clock.now()) !== this.#lastDate) await this.tryRun();
    if (this.#timer !== undefined) this.#schedule();
  }

  async #roll(): Promise<RolloverReport> {
    const { files, clock, log, limits, received, metrics } = this.#deps;
    const now = clock.now();
    const today = utcDate(now);
    files.seal(today);
    const packed: string[] = [];
    const failed: string[] = [];
    for (const date of await dayFileDates(files.dir)) {
      if (date >= today) continue;
      try {
        const manifest = await packDay(files.dir, date, { clock });
        metrics.archives.inc();
        packed.push(date);
        log.info(`Packed statistics of ${date}`, {
          records: manifest.records,
          bytes: manifest.bytes,
        });
      } catch (err) {
        // One bad day must not hold back the days after it, retention or pruning.
        failed.push(date);
        log.error(packFailure(files.dir, date, err));
      }
    }
    let removed: Removed[] = [];
    let retentionFailed = false;
    try {
      removed = await applyRetention(files.dir, today, limits);
    } catch (err) {
      retentionFailed = true;
      log.error(
        "Cannot apply statistics retention, will retry within a minute: " +
          `${(err as Error).message}; check the permissions of ${
            quote(archiveDir(files.dir), Infinity)
          }`,
      );
    }
    for (const r of removed) {
      metrics.retained.inc(r.reason);
      log.info(`Removed statistics archive of ${r.date}`, { reason: r.reason, bytes: r.bytes });
    }
    received.prune(Math.floor(now / 1000) - limits.days * 86_400);
    this.#lastDate = today;
    this.#retry = failed.length > 0 || retentionFailed;
    return { today, packed, failed, removed };
  }
}

/** The log line for a day that could not be packed: what went wrong and what to check. */
function packFailure(dir: string, date: string, err: unknown): string {
  const why = (err as Error)?.message ?? String(err);
  const head = `Cannot pack statistics of ${date}, will retry within a minute: ${why}`;
  if (err instanceof AppError && err.code === "archive_damaged") {
    // Paths are quoted in full: the operator has to type this one.
    const archive = quote(archiveFile(dir, date), Infinity);
    return `${head}; move the damaged archive ${archive} aside, and the day's records ` +
      "still in its day file are packed into a new one";
  }
  return `${head}; check free space and the permissions of ${quote(dir, Infinity)}`;
}
