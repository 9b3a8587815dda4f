/**
 * The mirror's rows (origin 0 of the `entry` table) as feed appliers and the
 * publisher read and write them: by key for checking a delta, changes for
 * writing one, and every row for a checksum or a diff. Statements that run per
 * record are prepared once.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { EntryRow } from "./entries.ts";

/** A stored mirror row: an entry row without its origin. */
export type MirrorEntryRow = Omit<EntryRow, "origin">;

/** A row's key and dates, as a feed record carries them. */
export interface MirrorRowDates {
  key: Uint8Array;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** A row's attribute fields, as a feed's attribute table carries them. */
export interface MirrorAttributes {
  verdict: number;
  threat: string | null;
  categories: string | null;
  ttl: number | null;
  source: string;
}

/** The stored fields of a mirror row besides its key, in the order {@link RowArray} holds them. */
const ROW_FIELDS = "verdict, threat, categories, first_seen, last_seen, ttl, source";

/** A mirror row read as an array: verdict, threat, categories, first_seen, last_seen, ttl, source. */
export type RowArray = [
  number,
  string | null,
  string | null,
  number | null,
  number | null,
  number | null,
  string,
];

/** Reads mirror rows by key, for checking a delta against what is stored. */
export class MirrorRowReader {
  readonly #get: StatementSync;

  constructor(db: DatabaseSync) {
    this.#get = db.prepare(`SELECT ${ROW_FIELDS} FROM entry WHERE key = ? AND origin = 0`);
    // Rows as arrays: no object with seven named fields per checked row.
    (this.#get as unknown as { setReturnArrays(on: boolean): void }).setReturnArrays(true);
  }

  /** The stored mirror row for `key`, or undefined. */
  get(key: Uint8Array): RowArray | undefined {
    return this.#get.get(key) as RowArray | undefined;
  }
}

/** Writes a delta's changes to the mirror rows; call inside a transaction. */
export class MirrorRowWriter {
  readonly #insert: StatementSync;
  readonly #update: StatementSync;
  readonly #remove: StatementSync;

  constructor(db: DatabaseSync) {
    this.#insert = db.prepare(
      `INSERT INTO entry (key, origin, ${ROW_FIELDS}) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#update = db.prepare(
      "UPDATE entry SET verdict = ?, threat = ?, categories = ?, first_seen = ?, " +
        "last_seen = ?, ttl = ?, source = ? WHERE key = ? AND origin = 0",
    );
    this.#remove = db.prepare("DELETE FROM entry WHERE key = ? AND origin = 0");
  }

  /** Inserts a row the mirror does not hold. */
  add(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#insert.run(
      row.key,
      attrs.verdict,
      attrs.threat,
      attrs.categories,
      row.firstSeen,
      row.lastSeen,
      attrs.ttl,
      attrs.source,
    );
  }

  /** Replaces the fields of a row the mirror holds. */
  update(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#update.run(
      attrs.verdict,
      attrs.threat,
      attrs.categories,
      row.firstSeen,
      row.lastSeen,
      attrs.ttl,
      attrs.source,
      row.key,
    );
  }

  /** Removes the mirror row for `key`. */
  remove(key: Uint8Array): void {
    this.#remove.run(key);
  }
}

/** Every mirror row, in no particular order. */
export function mirrorRows(db: DatabaseSync): Iterable<MirrorEntryRow> {
  return db.prepare(
    "SELECT key, verdict, threat, categories, first_seen, last_seen, ttl, source " +
      "FROM entry WHERE origin = 0",
  ).iterate() as unknown as Iterable<MirrorEntryRow>;
}

/** Every mirror row in key order. */
export function mirrorRowsByKey(db: DatabaseSync): Iterable<MirrorEntryRow> {
  return db.prepare(
    "SELECT key, verdict, threat, categories, first_seen, last_seen, ttl, source " +
      "FROM entry WHERE origin = 0 ORDER BY key",
  ).iterate() as unknown as Iterable<MirrorEntryRow>;
}
