/**
 * The mirror's tables as the appliers see them: the live `entry` table, the
 * tables an apply builds beside it, and hashing stored rows the way the feed
 * does. Shapes are read from the database itself, so a later migration that
 * changes `entry` is carried over rather than silently dropped.
 */
import type { DatabaseSync } from "node:sqlite";
import { attributeHash, type Hash64, rowHash, StateChecksum } from "./checksum.ts";
import { type Attributes, attributeText } from "./stream_format.ts";
import { SyncError } from "./sync_error.ts";
import { toHex } from "../core/mod.ts";

/** Where a snapshot is built before it is swapped in. */
export const NEXT_TABLE = "entry_next";

/** A mirror row's stored fields besides its key. */
export interface MirrorRow extends Attributes {
  first_seen: number | null;
  last_seen: number | null;
}

/** Drops what an interrupted apply left behind; call only under the sync lock. */
export function dropUnfinishedApply(db: DatabaseSync): void {
  db.exec(`DROP TABLE IF EXISTS ${NEXT_TABLE}`);
}

/** The `CREATE` statements of `entry` and its indexes, as the database holds them. */
export function entrySchema(db: DatabaseSync): { table: string; indexes: string[] } {
  const rows = db.prepare(
    "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'entry' AND sql IS NOT NULL",
  ).all() as { type: string; sql: string }[];
  const table = rows.find((r) => r.type === "table")?.sql;
  if (table === undefined) throw new SyncError("store_error", "The database has no entry table");
  return { table, indexes: rows.filter((r) => r.type === "index").map((r) => r.sql) };
}

/** The `entry` table's definition under another name. */
export function entryTableAs(db: DatabaseSync, name: string): string {
  return entrySchema(db).table.replace(/^CREATE TABLE\s+"?entry"?/i, `CREATE TABLE ${name}`);
}

/** The `entry` table's column names, in order. */
export function entryColumns(db: DatabaseSync): string[] {
  return (db.prepare("PRAGMA table_info(entry)").all() as { name: string }[]).map((c) => c.name);
}

/** The stored fields of a mirror row besides its key, in the order {@link RowArray} holds them. */
export const ROW_FIELDS = "verdict, threat, categories, first_seen, last_seen, ttl, source";

/** A mirror row read with `setReturnArrays(true)`: no object per row. */
export type RowArray = [
  number,
  string | null,
  string | null,
  number | null,
  number | null,
  number | null,
  string,
];

/** Hashes stored rows, remembering the hash of each attribute set it meets. */
export class RowHasher {
  readonly #attrs = new Map<string, Hash64>();

  hash(key: Uint8Array, row: MirrorRow): Hash64 {
    const text = attributeText(row);
    let attr = this.#attrs.get(text);
    if (attr === undefined) {
      attr = attributeHash(text);
      this.#attrs.set(text, attr);
    }
    return rowHash(key, attr, row.first_seen, row.last_seen);
  }

  /** The same for a row read as an array in {@link ROW_FIELDS} order. */
  hashArray(key: Uint8Array, row: RowArray): Hash64 {
    return this.hash(key, {
      verdict: row[0],
      threat: row[1],
      categories: row[2],
      first_seen: row[3],
      last_seen: row[4],
      ttl: row[5],
      source: row[6],
    });
  }
}

/** A key as hex, for messages. */
export function keyHex(key: Uint8Array): string {
  return toHex(key);
}

/** Recomputes the mirror's checksum from its rows (for `pksn sync verify` and tests). */
export function computeMirrorChecksum(db: DatabaseSync): { checksum: string; rows: number } {
  const hasher = new RowHasher();
  const sum = new StateChecksum();
  let rows = 0;
  const all = db.prepare(
    "SELECT key, verdict, threat, categories, first_seen, last_seen, ttl, source " +
      "FROM entry WHERE origin = 0",
  );
  for (const row of all.iterate()) {
    const r = row as unknown as MirrorRow & { key: Uint8Array };
    sum.add(hasher.hash(r.key, r));
    rows++;
  }
  return { checksum: sum.toHex(), rows };
}
