/**
 * Local overrides with their notes: the entry rows of origin 1 and, beside them, the
 * `override_note` table (reason, author, times). This module knows SQL and bytes; what a key
 * or a verdict means is the reputation layer's business. Writes run inside the caller's
 * transaction, so an override and its note change together.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { JOIN_ATTR } from "./attrs.ts";
import { EntryRepository, type EntryRow, ORIGIN_LOCAL } from "./entries.ts";

/** What the operator said about an override; every field is null for a bare import. */
export interface OverrideNote {
  reason: string | null;
  created_by: string | null;
  /** Unix seconds. */
  created_at: number | null;
  /** Unix seconds; null for no expiry. */
  expires_at: number | null;
}

/** A local override's entry row with its note (null fields when it has none). */
export type OverrideRow = Omit<EntryRow, "origin"> & OverrideNote;

// Every query joins entry (e) with its attr row (a) and its note (n).
const COLUMNS = "e.key AS key, a.verdict AS verdict, a.threat AS threat, " +
  "a.categories AS categories, e.first_seen AS first_seen, e.last_seen AS last_seen, " +
  "a.ttl AS ttl, a.source AS source, n.reason AS reason, n.created_by AS created_by, " +
  "n.created_at AS created_at, n.expires_at AS expires_at";

// A key range given as (flag, from, to); a null flag means every key.
const IN_RANGE = (t: string): string => `(? IS NULL OR (${t}.key >= ? AND ${t}.key < ?))`;

/** Prepared statements over the local overrides and their notes, created once per connection. */
export class OverrideTable {
  readonly #get: StatementSync;
  // The entry rows are written as every other entry is.
  readonly #entries: EntryRepository;
  readonly #putNote: StatementSync;
  readonly #deleteNote: StatementSync;
  readonly #noted: StatementSync;
  readonly #bare: StatementSync;
  readonly #expireEntries: StatementSync;
  readonly #expireNotes: StatementSync;

  constructor(db: DatabaseSync) {
    this.#get = db.prepare(
      `SELECT ${COLUMNS} FROM entry e ${JOIN_ATTR} LEFT JOIN override_note n ON n.key = e.key ` +
        `WHERE e.key = ? AND e.origin = ${ORIGIN_LOCAL}`,
    );
    this.#entries = new EntryRepository(db);
    this.#putNote = db.prepare(
      "INSERT OR REPLACE INTO override_note (key, reason, created_by, created_at, expires_at) " +
        "VALUES (?, ?, ?, ?, ?)",
    );
    this.#deleteNote = db.prepare("DELETE FROM override_note WHERE key = ?");
    // Two passes instead of one sort over both: noted overrides newest first (few, made
    // through the admin API), then bare imports in key order straight off the partial index.
    this.#noted = db.prepare(
      `SELECT ${COLUMNS} FROM override_note n JOIN entry e ` +
        `ON e.key = n.key AND e.origin = ${ORIGIN_LOCAL} ${JOIN_ATTR} ` +
        `WHERE ${IN_RANGE("n")} ` +
        "ORDER BY n.created_at IS NULL, n.created_at DESC, n.key",
    );
    this.#bare = db.prepare(
      `SELECT ${COLUMNS} FROM entry e ${JOIN_ATTR} LEFT JOIN override_note n ON n.key = e.key ` +
        `WHERE e.origin = ${ORIGIN_LOCAL} AND ${IN_RANGE("e")} AND n.key IS NULL ` +
        "ORDER BY e.key",
    );
    this.#expireEntries = db.prepare(
      `DELETE FROM entry WHERE origin = ${ORIGIN_LOCAL} AND key IN ` +
        "(SELECT key FROM override_note WHERE expires_at IS NOT NULL AND expires_at <= ?)",
    );
    this.#expireNotes = db.prepare(
      "DELETE FROM override_note WHERE expires_at IS NOT NULL AND expires_at <= ?",
    );
  }

  /** The override stored under `key`, if any. */
  get(key: Uint8Array): OverrideRow | undefined {
    return this.#get.get(key) as OverrideRow | undefined;
  }

  /** Inserts or replaces the override (entry row and note) under `row.key`. */
  put(row: OverrideRow): void {
    const { reason: _r, created_by: _b, created_at: _c, expires_at: _e, ...entry } = row;
    this.#entries.upsert({ ...entry, origin: ORIGIN_LOCAL });
    this.#putNote.run(row.key, row.reason, row.created_by, row.created_at, row.expires_at);
  }

  /** Removes the override under `key` and its note; returns whether an override existed. */
  remove(key: Uint8Array): boolean {
    const removed = this.#entries.delete(key, ORIGIN_LOCAL);
    this.#deleteNote.run(key);
    return removed;
  }

  /**
   * Every override whose key starts with `lead` (every one when absent): those with a
   * creation time newest first, then the rest in key order.
   */
  *list(lead?: number): Generator<OverrideRow> {
    const range = lead === undefined
      ? [null, null, null]
      : [1, Uint8Array.of(lead), Uint8Array.of(lead + 1)];
    yield* this.#noted.iterate(...range) as Iterable<OverrideRow>;
    yield* this.#bare.iterate(...range) as Iterable<OverrideRow>;
  }

  /** Removes the overrides whose expiry is at or before `nowSeconds`; returns how many. */
  expire(nowSeconds: number): number {
    const removed = Number(this.#expireEntries.run(nowSeconds).changes);
    this.#expireNotes.run(nowSeconds);
    return removed;
  }
}
