/**
 * The KSN proxy's cache on disk (table `proxy_cache`): the parent's answers, so that a
 * restart starts warm. The serving node keeps the cache in memory and writes its changes
 * here in batches; `pksn proxy flush` clears rows and bumps the `proxy` change counter so a
 * running node drops its copy.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { transaction } from "./database.ts";
import { bumpGeneration, readGenerations } from "./generation.ts";

/** One cached answer. Times are milliseconds since the epoch. */
export interface ProxyCacheRow {
  type: string;
  value: string;
  /** The parent's result as JSON. */
  answer: string;
  expiresAt: number;
  usedAt: number;
  /** The estimated memory the entry takes when loaded. */
  bytes: number;
}

/** What one write batch changes. */
export interface ProxyCacheChanges {
  /** Rows to insert or replace. */
  put: readonly ProxyCacheRow[];
  /** Rows whose `used_at` moved. */
  touch: readonly { type: string; value: string; usedAt: number }[];
  /** Rows to remove. */
  remove: readonly { type: string; value: string }[];
}

/** Rows `pksn proxy flush` removes: all, one type's, or one object's. */
export interface ProxyCacheFilter {
  type?: string;
  value?: string;
}

/** The `proxy_cache` table's statements. */
export class ProxyCacheTable {
  readonly #db: DatabaseSync;
  readonly #put: StatementSync;
  readonly #touch: StatementSync;
  readonly #remove: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO proxy_cache (type, value, answer, expires_at, used_at, bytes)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#touch = db.prepare("UPDATE proxy_cache SET used_at = ? WHERE type = ? AND value = ?");
    this.#remove = db.prepare("DELETE FROM proxy_cache WHERE type = ? AND value = ?");
  }

  /** Every row, least recently used first. */
  *rows(): Generator<ProxyCacheRow> {
    const select = this.#db.prepare(
      `SELECT type, value, answer, expires_at AS expiresAt, used_at AS usedAt, bytes
       FROM proxy_cache ORDER BY used_at`,
    );
    for (const row of select.iterate()) yield row as unknown as ProxyCacheRow;
  }

  /** Writes one batch of changes in one transaction. */
  apply(changes: ProxyCacheChanges): void {
    if (!changes.put.length && !changes.touch.length && !changes.remove.length) return;
    transaction(this.#db, () => {
      for (const r of changes.remove) this.#remove.run(r.type, r.value);
      for (const r of changes.put) {
        this.#put.run(r.type, r.value, r.answer, r.expiresAt, r.usedAt, r.bytes);
      }
      for (const r of changes.touch) this.#touch.run(r.usedAt, r.type, r.value);
    });
  }

  /** Removes the rows the filter names and tells a running node; returns how many. */
  clear(filter: ProxyCacheFilter = {}): number {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.type !== undefined) {
      where.push("type = ?");
      args.push(filter.type);
    }
    if (filter.value !== undefined) {
      where.push("value = ?");
      args.push(filter.value);
    }
    const sql = `DELETE FROM proxy_cache${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
    return transaction(this.#db, () => {
      const removed = Number(this.#db.prepare(sql).run(...args).changes);
      bumpGeneration(this.#db, "proxy");
      return removed;
    });
  }

  /** Entries and bytes by type, and the expired ones at `now`. */
  totals(now: number): {
    byType: Record<string, { entries: number; bytes: number }>;
    expired: number;
  } {
    const byType: Record<string, { entries: number; bytes: number }> = {};
    const rows = this.#db.prepare(
      "SELECT type, COUNT(*) AS entries, COALESCE(SUM(bytes), 0) AS bytes FROM proxy_cache GROUP BY type",
    ).all() as { type: string; entries: number; bytes: number }[];
    for (const r of rows) byType[r.type] = { entries: Number(r.entries), bytes: Number(r.bytes) };
    const expired = this.#db.prepare(
      "SELECT COUNT(*) AS n FROM proxy_cache WHERE expires_at <= ?",
    ).get(now) as { n: number };
    return { byType, expired: Number(expired.n) };
  }

  /** The `proxy` change counter: it moves when another process cleared rows. */
  generation(): number {
    return readGenerations(this.#db).proxy;
  }
}
