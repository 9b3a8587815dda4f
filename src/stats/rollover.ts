/**
 * The date change: every day file but today's is packed into its archive, then
 * retention runs and old idempotency keys are forgotten. It runs at start and
 * from a timer that checks the injected clock at least once a minute, so a
 * clock that jumps (or a machine that slept) still rolls over.
 */
import type { Clock } from "../clock.ts";
import { quote } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { StatsReceivedRepository } from "../store/stats_received.ts";
import { packDay } from "./archive.ts";
import type { DailyFiles } from "./daily_files.ts";
import { dayFileDates, utcDate } from "./layout.ts";
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

  constructor(deps: RolloverDeps) {
    this.#deps = deps;
  }

  /** Runs one rollover with no write in progress. */
  run(): Promise<RolloverReport> {
    this.#running ??= this.#deps.files.exclusive(() => this.#roll()).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
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
    if (utcDate(this.#deps.clock.now()) !== this.#lastDate) {
      try {
        await this.run();
      } catch (err) {
        // The next tick tries again: the day files stay where they are meanwhile.
        const why = (err as Error).message;
        const dir = quote(this.#deps.files.dir);
        this.#deps.log.error(
          "Cannot roll statistics over (packing past days, retention), will retry within a " +
            `minute: ${why}; check free space and the permissions of ${dir}`,
        );
      }
    }
    if (this.#timer !== undefined) this.#schedule();
  }

  async #roll(): Promise<RolloverReport> {
    const { files, clock, log, limits, received, metrics } = this.#deps;
    const now = clock.now();
    const today = utcDate(now);
    files.seal(today);
    const packed: string[] = [];
    for (const date of await dayFileDates(files.dir)) {
      if (date >= today) continue;
      const manifest = await packDay(files.dir, date, { clock });
      metrics.archives.inc();
      packed.push(date);
      log.info(`Packed statistics of ${date}`, {
        records: manifest.records,
        bytes: manifest.bytes,
      });
    }
    const removed = await applyRetention(files.dir, today, limits);
    for (const r of removed) {
      metrics.retained.inc(r.reason);
      log.info(`Removed statistics archive of ${r.date}`, { reason: r.reason, bytes: r.bytes });
    }
    received.prune(Math.floor(now / 1000) - limits.days * 86_400);
    this.#lastDate = today;
    return { today, packed, removed };
  }
}
