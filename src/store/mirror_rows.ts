/**
 * The mirror's rows (origin 0 of the `entry` table) as feed appliers and the
 * publisher read and write them: by key for checking a delta, changes for
 * writing one, and every row for a checksum or a diff. Statements that run per
 * record are prepared once.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ATTR_ID, AttrAdder, JOIN_ATTR } from "./attrs.ts";
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
const ROW_FIELDS = "a.verdict, a.threat, a.categories, e.first_seen, e.last_seen, a.ttl, a.source";

/** The same fields named as {@link MirrorEntryRow} names them. */
const NAMED_FIELDS = "a.verdict AS verdict, a.threat AS threat, a.categories AS categories, " +
  "e.first_seen AS first_seen, e.last_seen AS last_seen, a.ttl AS ttl, a.source AS source";

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
    this.#get = db.prepare(
      `SELECT ${ROW_FIELDS} FROM entry AS e ${JOIN_ATTR} WHERE e.key = ? AND e.origin = 0`,
    );
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
  readonly #adder: AttrAdder;

  constructor(db: DatabaseSync) {
    this.#insert = db.prepare(
      "INSERT INTO entry (key, origin, attr, first_seen, last_seen) " +
        `VALUES (?, 0, ${ATTR_ID}, ?, ?)`,
    );
    this.#update = db.prepare(
      `UPDATE entry SET attr = ${ATTR_ID}, first_seen = ?, last_seen = ? ` +
        "WHERE key = ? AND origin = 0",
    );
    this.#remove = db.prepare("DELETE FROM entry WHERE key = ? AND origin = 0");
    this.#adder = new AttrAdder(db);
  }

  /** Inserts a row the mirror does not hold. */
  add(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#adder.retry(() =>
      this.#insert.run(
        row.key,
        attrs.verdict,
        attrs.threat,
        attrs.categories,
        attrs.ttl,
        attrs.source,
        row.firstSeen,
        row.lastSeen,
      ), () => [attrs]);
  }

  /** Replaces the fields of a row the mirror holds. */
  update(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#adder.retry(() =>
      this.#update.run(
        attrs.verdict,
        attrs.threat,
        attrs.categories,
        attrs.ttl,
        attrs.source,
        row.firstSeen,
        row.lastSeen,
        row.key,
      ), () => [attrs]);
  }

  /** Removes the mirror row for `key`. */
  remove(key: Uint8Array): void {
    this.#remove.run(key);
  }
}

/** Every mirror row, in no particular order. */
export function mirrorRows(db: DatabaseSync): Iterable<MirrorEntryRow> {
  return db.prepare(
    `SELECT e.key AS key, ${NAMED_FIELDS} FROM entry AS e ${JOIN_ATTR} WHERE e.origin = 0`,
  ).iterate() as unknown as Iterable<MirrorEntryRow>;
}

/** Every mirror row in key order. */
export function mirrorRowsByKey(db: DatabaseSync): Iterable<MirrorEntryRow> {
  return db.prepare(
    `SELECT e.key AS key, ${NAMED_FIELDS} FROM entry AS e ${JOIN_ATTR} ` +
      "WHERE e.origin = 0 ORDER BY e.key",
  ).iterate() as unknown as Iterable<MirrorEntryRow>;
}
