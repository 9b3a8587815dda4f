/** SQLite's own check of a database file, and the references it cannot see, for `pksn db check`. */
import type { DatabaseSync } from "node:sqlite";

/**
 * What `PRAGMA integrity_check` finds wrong, one line a problem, then entry rows that name a
 * missing attr row (no foreign key says so: checking one on every write would cost the
 * import); none when the file is sound. A badly damaged file makes SQLite throw instead,
 * which the caller reports.
 */
export function integrityProblems(db: DatabaseSync): string[] {
  const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
  const problems = rows.map((row) => row.integrity_check).filter((line) => line !== "ok");
  const missing = missingAttrRows(db);
  if (missing > 0) problems.push(`${missing} entry rows name an attr row that does not exist`);
  return problems;
}

/** Entry rows whose attr id is not in `attr`; 0 for a database from before attr rows. */
function missingAttrRows(db: DatabaseSync): number {
  const columns = db.prepare("SELECT name FROM pragma_table_info('entry')").all() as {
    name: string;
  }[];
  if (!columns.some((c) => c.name === "attr")) return 0;
  // One pass over entry against an in-memory set of the (few) attr ids.
  const row = db.prepare(
    "SELECT count(*) AS n FROM entry WHERE attr NOT IN (SELECT id FROM attr)",
  ).get() as { n: number };
  return Number(row.n);
}
