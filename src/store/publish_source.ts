/** How the feed publisher reads its source database: several passes over one state of it. */
import type { DatabaseSync } from "node:sqlite";

/**
 * Runs `fn` inside one read transaction on `db`, so every pass it makes sees
 * the same rows. Works on a read-only connection. Ends in a rollback: the
 * publisher never writes to its source, so whatever was written through this
 * connection meanwhile is undone.
 */
export async function withReadTransaction<T>(db: DatabaseSync, fn: () => Promise<T>): Promise<T> {
  db.exec("BEGIN");
  try {
    return await fn();
  } finally {
    // The publisher only reads the source, so there is never anything to commit.
    if (db.isTransaction) db.exec("ROLLBACK");
  }
}
