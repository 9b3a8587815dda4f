/** SQLite's own check of a database file, for `pksn db check`. */
import type { DatabaseSync } from "node:sqlite";

/**
 * What `PRAGMA integrity_check` finds wrong, one line a problem; none when the file is
 * sound. A badly damaged file makes SQLite throw instead, which the caller reports.
 */
export function integrityProblems(db: DatabaseSync): string[] {
  const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
  return rows.map((row) => row.integrity_check).filter((line) => line !== "ok");
}
