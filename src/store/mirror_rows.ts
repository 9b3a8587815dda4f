/**
 * The mirror's rows (origin 0 of the `entry` table) as feed appliers and the
 * publisher read and write them: by key for checking a delta, changes for
 * writing one, and every row for a checksum or a diff. Statements that run per
 * record are prepared once.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { AttrAdder, CommittedAttrIds, JOIN_ATTR, numberedAttrId } from "./attrs.ts";
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

/**
 * One write of a mirror row, its parameters numbered so that every such write binds them alike:
 * ?1 the key, ?2 first_seen, ?3 last_seen, then the attr row. It is prepared twice: naming a
 * committed attr row by id, the common case, and naming it by its values through
 * {@link numberedAttrId} (adding the row if there is none) when no committed id is known.
 */
export class MirrorRowStatement {
  readonly #byId: StatementSync;
  readonly #byValues: StatementSync;
  readonly #ids: CommittedAttrIds;
  readonly #adder: AttrAdder;
  // Made once: the retry takes it with the row rather than a closure per row.
  readonly #writeByValues = (row: MirrorRowDates, attrs: MirrorAttributes): void => {
    this.#byValues.run(
      row.key,
      row.firstSeen,
      row.lastSeen,
      attrs.verdict,
      attrs.threat,
      attrs.categories,
      attrs.ttl,
      attrs.source,
    );
  };

  /** `sql(attr)` is the statement with `attr` where the attr id goes. */
  constructor(
    db: DatabaseSync,
    ids: CommittedAttrIds,
    adder: AttrAdder,
    sql: (attr: string) => string,
  ) {
    this.#byId = db.prepare(sql("?4"));
    this.#byValues = db.prepare(sql(numberedAttrId(4)));
    this.#ids = ids;
    this.#adder = adder;
  }

  /** Runs the write for `row` with `attrs`. */
  run(row: MirrorRowDates, attrs: MirrorAttributes): void {
    const id = this.#ids.committedId(attrs);
    if (id !== 0) this.#byId.run(row.key, row.firstSeen, row.lastSeen, id);
    else this.#adder.retryOne(this.#writeByValues, row, attrs);
  }
}

/** Writes a delta's changes to the mirror rows; call inside a transaction. */
export class MirrorRowWriter {
  readonly #insert: MirrorRowStatement;
  readonly #update: MirrorRowStatement;
  readonly #remove: StatementSync;

  constructor(db: DatabaseSync) {
    const ids = new CommittedAttrIds(db);
    const adder = new AttrAdder(db);
    this.#insert = new MirrorRowStatement(
      db,
      ids,
      adder,
      (attr) =>
        "INSERT INTO entry (key, origin, attr, first_seen, last_seen) " +
        `VALUES (?1, 0, ${attr}, ?2, ?3)`,
    );
    this.#update = new MirrorRowStatement(
      db,
      ids,
      adder,
      (attr) =>
        `UPDATE entry SET attr = ${attr}, first_seen = ?2, last_seen = ?3 ` +
        "WHERE key = ?1 AND origin = 0",
    );
    this.#remove = db.prepare("DELETE FROM entry WHERE key = ? AND origin = 0");
  }

  /** Inserts a row the mirror does not hold. */
  add(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#insert.run(row, attrs);
  }

  /** Replaces the fields of a row the mirror holds. */
  update(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#update.run(row, attrs);
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
