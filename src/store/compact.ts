/** Compacting the database file: the pages freed by deleted rows and dropped tables given back. */
import type { DatabaseSync } from "node:sqlite";

/** Page counts before and after a compaction. */
export interface Compaction {
  pageSize: number;
  pagesBefore: number;
  freeBefore: number;
  pagesAfter: number;
}

/**
 * Rewrites the database without its free pages (VACUUM), then empties the write-ahead log into
 * it. SQLite writes the new copy to a temporary file first, so it needs free disk space as large
 * as the database. Run it on a connection with no transaction open and no other writer.
 */
export function compactDatabase(db: DatabaseSync): Compaction {
  const pragma = (name: string): number =>
    Number(Object.values(db.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[0]);
  const pageSize = pragma("page_size");
  const pagesBefore = pragma("page_count");
  const freeBefore = pragma("freelist_count");
  // The copy goes to a temporary file, never memory: it is as large as the database.
  db.exec("PRAGMA temp_store = FILE");
  db.exec("VACUUM");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return { pageSize, pagesBefore, freeBefore, pagesAfter: pragma("page_count") };
}
