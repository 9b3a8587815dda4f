/**
 * The sync service of a running node (and of `pksn sync`): runs one sync at a
 * time, records how it went, keeps the metrics and the look-up mode current,
 * and schedules the next poll.
 *
 * Over 300 lines on purpose: the service's state (running, last result, mode, metrics,
 * schedule) changes together in each run and is kept in one class.
 */
import type { DatabaseSync } from "../store/mod.ts";
import {
  type Clock,
  type Config,
  ConfigError,
  Counter,
  Gauge,
  type Logger,
  readCaCert,
  readNamedFile,
  type Registry,
} from "../core/mod.ts";
import { syncOnce, type SyncProgressEvent, type SyncRunResult } from "./client.ts";
import type { FeedSource } from "./feed_source.ts";
import { type Freshness, freshnessOf, mirrorModeFor, type MirrorModeHolder } from "./freshness.ts";
import { HttpFeedSource } from "./http_source.ts";
import { LoopStallMeter } from "./loop_stall.ts";
import {
  type MirrorState,
  readMirrorState,
  readSyncStatus,
  SyncError,
  type SyncStatus,
  writeSyncStatus,
} from "../feed/mod.ts";
import { firstPollSeconds, nextPollSeconds } from "./schedule.ts";

/** One finished run, for the operator's list of recent runs. */
export interface RecentRun {
  at: string;
  outcome: string;
  from?: number;
  to?: number;
  error?: string;
}

// Runs kept for the operator's list; older ones are in the log.
const RECENT_RUNS = 20;

/** The mirror and sync figures `/v1/node` and `/metrics` report. */
export interface SyncReport {
  state: Freshness;
  version: number;
  upstreamVersion: number;
  lagVersions: number;
  expires: string | null;
  lastAttempt: string | null;
  lastSuccess: string | null;
  consecutiveFailures: number;
  lastError: string | null;
}

/** What the service needs. */
export interface SyncServiceDeps {
  config: Config["sync"];
  dataDir: string;
  /** A connection of the service's own. */
  db: DatabaseSync;
  clock: Clock;
  log: Logger;
  registry?: Registry;
  /** Look-ups read it; the service sets it from freshness and policy. */
  mode: MirrorModeHolder;
  /** Once after a run that applied anything, failed or not (the server rebuilds its index). */
  onApplied?: () => Promise<void> | void;
  random?: () => number;
  /** A source to use instead of HTTP (the offline bundle, tests). */
  source?: FeedSource;
  /** Told how far each download and apply of a run is (`pksn sync` on a terminal). */
  onProgress?: (event: SyncProgressEvent) => void;
}

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString();

/** Reads the shipped root file named by `sync.root`. */
export function readShippedRoot(path: string): Promise<string> {
  return readNamedFile(path, "sync.root", { kind: "internal", code: "config_invalid" });
}

/** Runs syncs, one at a time, now or on a schedule. */
export class SyncService {
  readonly #deps: SyncServiceDeps;
  readonly #shippedRoot: string;
  readonly #caCert: string | null;
  readonly #attempts: Counter;
  readonly #failures: Counter;
  readonly #applied: Counter;
  readonly #resumed: Counter;
  readonly #fallbacks: Counter;
  #mirror: MirrorState;
  #status: SyncStatus;
  #running: Promise<SyncRunResult> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #minPollSeconds = 0;
  #retryAfter: number | null = null;
  #recent: { at: number; outcome: string; from?: number; to?: number; error?: string }[] = [];

  constructor(deps: SyncServiceDeps, shippedRoot: string, caCert: string | null) {
    this.#deps = deps;
    this.#shippedRoot = shippedRoot;
    this.#caCert = caCert;
    this.#mirror = readMirrorState(deps.db);
    this.#status = readSyncStatus(deps.db);
    const add = <T extends Counter | Gauge>(m: T): T => deps.registry?.register(m) ?? m;
    this.#attempts = add(new Counter("pksn_sync_runs_total", "Sync runs, by result", ["result"]));
    this.#failures = add(
      new Counter("pksn_sync_failures_total", "Failed sync runs, by reason", ["reason"]),
    );
    this.#applied = add(
      new Counter("pksn_sync_applied_total", "Feed files applied to the mirror, by kind", ["kind"]),
    );
    this.#resumed = add(
      new Counter("pksn_sync_resumed_downloads_total", "Downloads resumed with an HTTP Range"),
    );
    this.#fallbacks = add(
      new Counter(
        "pksn_sync_fallbacks_total",
        "Delta paths given up for the full snapshot, by the delta's failure",
        ["reason"],
      ),
    );
    const gauge = (name: string, help: string, read: (r: SyncReport) => number | null): void => {
      add(
        new Gauge(name, help, [], () => {
          const value = read(this.report());
          return value === null ? [] : [[[], value]];
        }),
      );
    };
    gauge("pksn_mirror_version", "Feed version the mirror holds", (r) => r.version);
    gauge(
      "pksn_sync_upstream_version",
      "Feed version the upstream offered",
      (r) => r.upstreamVersion,
    );
    gauge(
      "pksn_sync_lag_versions",
      "Versions the mirror is behind the upstream",
      (r) => r.lagVersions,
    );
    gauge(
      "pksn_sync_last_success_timestamp_seconds",
      "When a sync last succeeded",
      (r) => r.lastSuccess === null ? null : Date.parse(r.lastSuccess) / 1000,
    );
    gauge(
      "pksn_sync_consecutive_failures",
      "Sync runs failed since the last success",
      (r) => r.consecutiveFailures,
    );
    gauge(
      "pksn_mirror_expiry_timestamp_seconds",
      "Signed expiry of the version held",
      (r) => r.expires === null ? null : Date.parse(r.expires) / 1000,
    );
    add(
      new Gauge(
        "pksn_mirror_state",
        "1 for the mirror's current state (unsynced, fresh, stale, frozen)",
        ["state"],
        () => {
          const state = this.report().state;
          return (["unsynced", "fresh", "stale", "frozen"] as const).map((s) => [
            [s],
            s === state ? 1 : 0,
          ]);
        },
      ),
    );
    this.refreshMode();
  }

  /** Builds the service from the node's configuration. */
  static async create(deps: SyncServiceDeps): Promise<SyncService> {
    const { config } = deps;
    if (config.root === null) throw new ConfigError("sync.root is not set");
    const root = await readShippedRoot(config.root);
    const caCert = config.caCert === null ? null : await readCaCert(config.caCert, "sync.caCert");
    return new SyncService(deps, root, caCert);
  }

  /** Figures for `/v1/node` and `/metrics`. */
  report(): SyncReport {
    const now = this.#deps.clock.now();
    const mirror = this.#mirror;
    const status = this.#status;
    return {
      state: freshnessOf(mirror, status, now, this.#deps.config.staleAfterSeconds),
      version: mirror.version,
      upstreamVersion: status.upstreamVersion,
      lagVersions: Math.max(0, status.upstreamVersion - mirror.version),
      expires: iso(mirror.expires),
      lastAttempt: iso(status.lastAttempt),
      lastSuccess: iso(status.lastSuccess),
      consecutiveFailures: status.consecutiveFailures,
      lastError: status.lastError,
    };
  }

  /** Re-reads the mirror state and sync status: other processes (a cron `pksn sync`, `pksn feed import-bundle`) change them. */
  #reload(): void {
    this.#mirror = readMirrorState(this.#deps.db);
    this.#status = readSyncStatus(this.#deps.db);
  }

  /** Records the outcome of a run on top of the status as stored now. */
  #record(change: (stored: SyncStatus) => Partial<SyncStatus>): void {
    const stored = readSyncStatus(this.#deps.db);
    this.#status = { ...stored, ...change(stored) };
    writeSyncStatus(this.#deps.db, this.#status);
  }

  /** Recomputes the look-up mode from freshness and the frozen policy, after re-reading both. */
  refreshMode(): void {
    this.#reload();
    const state = this.report().state;
    const mode = mirrorModeFor(state, this.#deps.config.frozen);
    if (mode !== this.#deps.mode.mode) {
      this.#deps.mode.mode = mode;
      if (mode !== "current") {
        this.#deps.log.warn(
          `The mirror is frozen: version ${this.#mirror.version} expired at ${
            iso(this.#mirror.expires)
          }; look-ups ${mode === "stale" ? 'answer with "stale": true' : "answer unknown"}`,
        );
      }
    }
  }

  /** Runs one sync now (or joins the one running). */
  runOnce(source?: FeedSource): Promise<SyncRunResult> {
    this.#running ??= this.#run(source).finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #run(given?: FeedSource): Promise<SyncRunResult> {
    const { config, clock, log } = this.#deps;
    this.#reload();
    const deadline = AbortSignal.timeout(config.deadlineSeconds * 1000);
    let http: HttpFeedSource | undefined;
    const source = given ?? this.#deps.source ?? (http = new HttpFeedSource({
      url: config.url ?? "",
      key: config.key,
      timeoutSeconds: config.timeoutSeconds,
      signal: deadline,
      caCert: this.#caCert,
      log,
      now: () => clock.now(),
      onResume: () => this.#resumed.inc(),
      onBytes: (ref, bytes) =>
        this.#deps.onProgress?.({
          step: "download",
          name: ref.name,
          done: bytes,
          total: ref.length,
        }),
    }));
    const started = clock.now();
    // The whole run's, besides each apply's: the index rebuild after it also runs on this loop.
    const stall = new LoopStallMeter();
    stall.start();
    try {
      const result = await syncOnce({
        db: this.#deps.db,
        source,
        dataDir: this.#deps.dataDir,
        shippedRoot: this.#shippedRoot,
        now: () => clock.now(),
        log,
        maxFileBytes: config.maxFileMiB * 1024 * 1024,
        serveFeed: config.serveFeed,
        signal: deadline,
        pause,
        onProgress: this.#deps.onProgress,
        onFallback: (reason) => this.#fallbacks.inc(reason),
        onTimestamp: (version) => {
          // Stored at once: the rollback check holds even if the run dies later.
          this.#record((stored) => ({
            seenVersion: Math.max(stored.seenVersion, version),
            upstreamVersion: version,
          }));
        },
        onApplied: (kind) => {
          this.#applied.inc(kind);
          this.#mirror = readMirrorState(this.#deps.db);
        },
        afterApplying: this.#deps.onApplied,
      });
      this.#record((stored) => ({
        seenVersion: Math.max(stored.seenVersion, result.upstream),
        upstreamVersion: result.upstream,
        lastAttempt: started,
        lastSuccess: clock.now(),
        consecutiveFailures: 0,
        lastError: null,
      }));
      this.#retryAfter = null;
      this.#minPollSeconds = result.minPollSeconds;
      this.#attempts.inc(result.outcome);
      this.#remember({ at: started, outcome: result.outcome, from: result.from, to: result.to });
      if (result.outcome === "updated") {
        log.info(`Synced mirror from version ${result.from} to ${result.to}`, {
          via: result.via.join(","),
          fellBack: result.fellBack ?? undefined,
          stallMillis: stall.stop(),
        });
      }
      return result;
    } catch (err) {
      const code = err instanceof SyncError ? err.code : "internal";
      const message = (err as Error).message;
      this.#mirror = readMirrorState(this.#deps.db);
      this.#record((stored) => ({
        lastAttempt: started,
        consecutiveFailures: stored.consecutiveFailures + 1,
        lastError: `${code}: ${message}`,
      }));
      this.#retryAfter = err instanceof SyncError ? err.retryAfterSeconds : null;
      this.#attempts.inc("failed");
      this.#remember({ at: started, outcome: "failed", error: `${code}: ${message}` });
      this.#failures.inc(code);
      log.error(
        `Sync failed (${code}); still serving mirror version ${this.#mirror.version}: ${message}`,
        {
          failures: this.#status.consecutiveFailures,
        },
      );
      throw err;
    } finally {
      stall.stop();
      http?.close();
      this.refreshMode();
    }
  }

  /** The last runs, newest first, for the operator. */
  get recentRuns(): readonly RecentRun[] {
    return this.#recent.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  }

  #remember(
    run: { at: number; outcome: string; from?: number; to?: number; error?: string },
  ): void {
    this.#recent.unshift(run);
    if (this.#recent.length > RECENT_RUNS) this.#recent.length = RECENT_RUNS;
  }

  /** Starts polling: first at a random delay, then on the schedule. */
  start(): void {
    const random = this.#deps.random ?? Math.random;
    this.#schedule(firstPollSeconds(this.#deps.config.firstPollMaxSeconds, random));
  }

  #schedule(seconds: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(async () => {
      this.#timer = undefined;
      try {
        await this.runOnce();
      } catch { /* logged and counted in #run */ }
      const { config } = this.#deps;
      this.#schedule(nextPollSeconds({
        intervalSeconds: config.intervalSeconds,
        jitter: config.jitter,
        maxBackoffSeconds: config.maxBackoffSeconds,
        consecutiveFailures: this.#status.consecutiveFailures,
        minPollSeconds: this.#minPollSeconds,
        retryAfterSeconds: this.#retryAfter,
      }, this.#deps.random ?? Math.random));
    }, seconds * 1000);
  }

  /** Stops polling and waits for a running sync to finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }
}
