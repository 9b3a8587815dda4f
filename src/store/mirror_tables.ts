/**
 * The table a snapshot is built in beside the live `entry` table, and the swap
 * that makes it live. Its shape and indexes are read from the database itself,
 * so a later migration that changes `entry` is carried over rather than
 * silently dropped.
 */
import type { DatabaseSync } from "node:sqlite";
import { AttrAdder, CommittedAttrIds } from "./attrs.ts";
import { transaction } from "./database.ts";
import { ORIGIN_LOCAL } from "./entries.ts";
import { type MirrorAttributes, type MirrorRowDates, MirrorRowStatement } from "./mirror_rows.ts";

/** Where a snapshot is built before it is swapped in. */
const NEXT_TABLE = "entry_next";

/** Drops what an interrupted apply left behind; call only under the sync lock. */
export function dropUnfinishedApply(db: DatabaseSync): void {
  db.exec(`DROP TABLE IF EXISTS ${NEXT_TABLE}`);
}

/** The `CREATE` statements of `entry` and its indexes, as the database holds them. */
function entrySchema(db: DatabaseSync): { table: string | undefined; indexes: string[] } {
  const rows = db.prepare(
    "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'entry' AND sql IS NOT NULL",
  ).all() as { type: string; sql: string }[];
  return {
    table: rows.find((r) => r.type === "table")?.sql,
    indexes: rows.filter((r) => r.type === "index").map((r) => r.sql),
  };
}

/** The `entry` table's column names, in order. */
function entryColumns(db: DatabaseSync): string[] {
  return (db.prepare("PRAGMA table_info(entry)").all() as { name: string }[]).map((c) => c.name);
}

/**
 * A new mirror being built beside the live one: mirror rows are put into it in
 * committed chunks, then it is swapped in with the local overrides copied over,
 * or dropped. Its insert is prepared once.
 */
export class SnapshotTable {
  readonly #db: DatabaseSync;
  readonly #indexes: readonly string[];
  readonly #put: MirrorRowStatement;

  private constructor(db: DatabaseSync, indexes: readonly string[], put: MirrorRowStatement) {
    this.#db = db;
    this.#indexes = indexes;
    this.#put = put;
  }

  /**
   * Drops what an interrupted apply left behind and creates the empty table,
   * shaped like `entry`; null if the database has no `entry` table.
   */
  static create(db: DatabaseSync): SnapshotTable | null {
    dropUnfinishedApply(db);
    const { table, indexes } = entrySchema(db);
    if (table === undefined) return null;
    db.exec(table.replace(/^CREATE TABLE\s+"?entry"?/i, `CREATE TABLE ${NEXT_TABLE}`));
    try {
      // The attr rows it names go into the one live attr table (committed with each chunk):
      // attr rows are shared by both tables and never change, so no swap is needed for them.
      // Made here, outside the chunks' transactions, its committed ids cover every attr row
      // there is before the apply: those sets are looked up once per apply, not once per row.
      // Sets new to the database are still named through their values, row by row: an id
      // added in a chunk cannot be known to be committed from inside the next one.
      const put = new MirrorRowStatement(
        db,
        new CommittedAttrIds(db),
        new AttrAdder(db),
        (attr) =>
          `INSERT INTO ${NEXT_TABLE} (key, origin, attr, first_seen, last_seen) ` +
          `VALUES (?1, 0, ${attr}, ?2, ?3)`,
      );
      return new SnapshotTable(db, indexes, put);
    } catch (err) {
      dropUnfinishedApply(db);
      throw err;
    }
  }

  /** Adds one mirror row; call inside a transaction, many rows to one. */
  put(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#put.run(row, attrs);
  }

  /**
   * In one transaction: copies the local overrides over, replaces `entry` with
   * this table and recreates its indexes, then runs `alsoInside` (the writes
   * that must commit with the swap).
   */
  swapIn(alsoInside: () => void): void {
    const db = this.#db;
    const columns = entryColumns(db).join(", ");
    transaction(db, () => {
      db.exec(
        `INSERT INTO ${NEXT_TABLE} (${columns}) SELECT ${columns} FROM entry ` +
          `WHERE origin = ${ORIGIN_LOCAL}`,
      );
      db.exec("DROP TABLE entry");
      db.exec(`ALTER TABLE ${NEXT_TABLE} RENAME TO entry`);
      for (const index of this.#indexes) db.exec(index);
      alsoInside();
    });
  }

  /** Drops the table if it was not swapped in. */
  drop(): void {
    dropUnfinishedApply(this.#db);
  }
}
