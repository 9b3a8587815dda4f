/**
 * The durable queue of what waits to go upstream (table `upstream_spool`): NDJSON
 * statistics batches, and samples by their SHA-256. It is bounded by
 * `stats.spoolMaxBytes`; when full, new batches are not queued (they are still
 * in the local daily files) and a counter and a warning say so.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { type Clock, Counter, Gauge, type Logger, type Registry } from "../core/mod.ts";
import { transaction } from "./database.ts";

/** What an entry carries. */
export type SpoolKind = "statistics" | "sample";

/** Both kinds, in the order the forwarder serves them. */
export const SPOOL_KINDS: readonly SpoolKind[] = ["statistics", "sample"];

/** One queued batch. Times are milliseconds since the epoch. */
export interface SpoolEntry {
  id: number;
  kind: SpoolKind;
  /** The idempotency key the upstream deduplicates on; a retry reuses it. */
  batchId: string;
  /** NDJSON for statistics; the 32-byte SHA-256 for a sample. */
  body: Uint8Array;
  bytes: number;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

/** Entries and bytes waiting, by kind. */
export type SpoolTotals = Record<SpoolKind, { entries: number; bytes: number }>;

/** One kind's queue as `pksn upstream status` shows it; times in ms since the epoch. */
export interface SpoolKindState {
  entries: number;
  bytes: number;
  oldestCreatedAt: number | null;
  mostAttempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
}

/** What {@link Spool.enqueue} did. */
export type EnqueueResult = "queued" | "duplicate" | "full";

/** What {@link Spool} needs. */
export interface SpoolDeps {
  clock: Clock;
  log: Logger;
  /** `stats.spoolMaxBytes`: the most body bytes the spool holds. */
  maxBytes: number;
  /** Where the spool's metrics are registered, if anywhere. */
  registry?: Registry;
}

interface Row {
  id: number;
  kind: SpoolKind;
  batch_id: string;
  body: Uint8Array;
  bytes: number;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

/** The `upstream_spool` table with its bound and metrics. */
export class Spool {
  readonly #db: DatabaseSync;
  readonly #deps: SpoolDeps;
  readonly #dropped: Counter;
  readonly #used: StatementSync;
  readonly #insert: StatementSync;
  readonly #due: StatementSync;
  readonly #delete: StatementSync;
  readonly #deleteBatch: StatementSync;
  readonly #defer: StatementSync;
  readonly #totals: StatementSync;

  constructor(db: DatabaseSync, deps: SpoolDeps) {
    this.#db = db;
    this.#deps = deps;
    this.#used = db.prepare("SELECT coalesce(sum(bytes), 0) AS n FROM upstream_spool");
    this.#insert = db.prepare(
      "INSERT INTO upstream_spool (kind, batch_id, body, bytes, created_at, next_attempt_at) " +
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING",
    );
    this.#due = db.prepare(
      "SELECT * FROM upstream_spool WHERE kind = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?",
    );
    this.#delete = db.prepare("DELETE FROM upstream_spool WHERE id = ?");
    this.#deleteBatch = db.prepare("DELETE FROM upstream_spool WHERE batch_id = ?");
    this.#defer = db.prepare(
      "UPDATE upstream_spool SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? " +
        "WHERE id = ?",
    );
    this.#totals = db.prepare(
      "SELECT kind, count(*) AS entries, coalesce(sum(bytes), 0) AS bytes FROM upstream_spool " +
        "GROUP BY kind",
    );
    this.#dropped = new Counter(
      "pksn_upstream_spool_dropped_total",
      "Batches not queued for the upstream because the spool was full",
      ["kind"],
    );
    const registry = deps.registry;
    if (registry) {
      registry.register(this.#dropped);
      registry.register(spoolGauges(() => this.totals()));
    }
  }

  /**
   * Queues a batch under `batchId`, in one transaction with the size check (the
   * caller's, when it has one open). An existing `batchId` is left as it is.
   */
  enqueue(kind: SpoolKind, batchId: string, body: Uint8Array): EnqueueResult {
    const now = this.#deps.clock.now();
    const result = joinTransaction(this.#db, (): EnqueueResult => {
      const used = Number((this.#used.get() as { n: number }).n);
      if (used + body.byteLength > this.#deps.maxBytes) return "full";
      const changed = this.#insert.run(kind, batchId, body, body.byteLength, now, now).changes;
      return Number(changed) === 1 ? "queued" : "duplicate";
    });
    if (result === "full") {
      this.#dropped.inc(kind);
      this.#deps.log.warn(
        `Upstream spool is full (stats.spoolMaxBytes ${this.#deps.maxBytes}): ` +
          `${kind} batch not queued; its data stays in the local files`,
        { batch: batchId, bytes: body.byteLength },
      );
    }
    return result;
  }

  /** Up to `limit` entries of `kind` due at `now`, oldest first. */
  due(kind: SpoolKind, now: number, limit: number): SpoolEntry[] {
    return (this.#due.all(kind, now, limit) as unknown as Row[]).map(toEntry);
  }

  /** Removes an entry (it was delivered). */
  remove(id: number): void {
    this.#delete.run(id);
  }

  /** Removes the entry queued under `batchId`, if any; true when there was one. */
  removeBatch(batchId: string): boolean {
    return Number(this.#deleteBatch.run(batchId).changes) === 1;
  }

  /** Records a failed attempt and when to try again. */
  defer(id: number, nextAttemptAt: number, error: string): void {
    this.#defer.run(nextAttemptAt, error, id);
  }

  /**
   * Makes every entry due now, for the operator's "send now". The entries are marked with a
   * next attempt of 0, which no deferral writes, so a running forwarder can tell the operator
   * asked and lift a pause it is in.
   */
  retryNow(): number {
    return Number(this.#db.prepare("UPDATE upstream_spool SET next_attempt_at = 0").run().changes);
  }

  /** Whether the operator asked for a retry (see {@link retryNow}) that is not served yet. */
  retryRequested(): boolean {
    return this.#db.prepare("SELECT 1 FROM upstream_spool WHERE next_attempt_at = 0 LIMIT 1")
      .get() !== undefined;
  }

  /** Per kind: the oldest entry's time, the most attempts, the soonest next attempt, the newest error. */
  state(): Record<SpoolKind, SpoolKindState> {
    const out = {} as Record<SpoolKind, SpoolKindState>;
    for (const kind of SPOOL_KINDS) {
      const row = this.#db.prepare(
        `SELECT count(*) AS entries, coalesce(sum(bytes), 0) AS bytes, min(created_at) AS oldest,
                coalesce(max(attempts), 0) AS attempts, min(next_attempt_at) AS next,
                (SELECT last_error FROM upstream_spool WHERE kind = ?1 AND last_error IS NOT NULL
                 ORDER BY id DESC LIMIT 1) AS lastError
         FROM upstream_spool WHERE kind = ?1`,
      ).get(kind) as Record<string, number | string | null>;
      out[kind] = {
        entries: Number(row.entries),
        bytes: Number(row.bytes),
        oldestCreatedAt: row.oldest === null ? null : Number(row.oldest),
        mostAttempts: Number(row.attempts),
        nextAttemptAt: row.next === null ? null : Number(row.next),
        lastError: row.lastError as string | null,
      };
    }
    return out;
  }

  /** Entries and bytes waiting, by kind. */
  totals(): SpoolTotals {
    const totals = { statistics: { entries: 0, bytes: 0 }, sample: { entries: 0, bytes: 0 } };
    for (const row of this.#totals.all() as { kind: SpoolKind; entries: number; bytes: number }[]) {
      totals[row.kind] = { entries: Number(row.entries), bytes: Number(row.bytes) };
    }
    return totals;
  }

  /** How many batches the bound turned away since this process started, by kind. */
  dropped(kind: SpoolKind): number {
    return this.#dropped.get(kind);
  }
}

/**
 * The gauges `pksn_upstream_spool_entries` and `pksn_upstream_spool_bytes`,
 * rendered together from one reading of `totals` per scrape.
 */
function spoolGauges(totals: () => SpoolTotals): { render(): string } {
  let scraped: SpoolTotals;
  const entries = new Gauge(
    "pksn_upstream_spool_entries",
    "Entries waiting to go upstream",
    ["kind"],
    () => SPOOL_KINDS.map((kind) => [[kind], scraped[kind].entries]),
  );
  const bytes = new Gauge(
    "pksn_upstream_spool_bytes",
    "Bytes waiting to go upstream",
    ["kind"],
    () => SPOOL_KINDS.map((kind) => [[kind], scraped[kind].bytes]),
  );
  return {
    render(): string {
      scraped = totals();
      return entries.render() + bytes.render();
    },
  };
}

/** Runs `fn` in the caller's open transaction, or in a new one. */
function joinTransaction<T>(db: DatabaseSync, fn: () => T): T {
  return db.isTransaction ? fn() : transaction(db, fn);
}

function toEntry(row: Row): SpoolEntry {
  return {
    id: Number(row.id),
    kind: row.kind,
    batchId: row.batch_id,
    body: row.body,
    bytes: Number(row.bytes),
    createdAt: Number(row.created_at),
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error,
  };
}
