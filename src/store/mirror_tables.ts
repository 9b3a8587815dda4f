/**
 * The table a snapshot is built in beside the live `entry` table, and the swap
 * that makes it live. Its shape and indexes are read from the database itself,
 * so a later migration that changes `entry` is carried over rather than
 * silently dropped.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ATTR_ID, AttrAdder } from "./attrs.ts";
import { transaction } from "./database.ts";
import { ORIGIN_LOCAL } from "./entries.ts";
import type { MirrorAttributes, MirrorRowDates } from "./mirror_rows.ts";

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
  readonly #put: StatementSync;
  readonly #adder: AttrAdder;

  private constructor(db: DatabaseSync, indexes: readonly string[], put: StatementSync) {
    this.#db = db;
    this.#indexes = indexes;
    this.#put = put;
    this.#adder = new AttrAdder(db);
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
      const put = db.prepare(
        `INSERT INTO ${NEXT_TABLE} (key, origin, attr, first_seen, last_seen) ` +
          `VALUES (?, 0, ${ATTR_ID}, ?, ?)`,
      );
      return new SnapshotTable(db, indexes, put);
    } catch (err) {
      dropUnfinishedApply(db);
      throw err;
    }
  }

  /** Adds one mirror row; call inside a transaction, many rows to one. */
  put(row: MirrorRowDates, attrs: MirrorAttributes): void {
    this.#adder.retry(() =>
      this.#put.run(
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
