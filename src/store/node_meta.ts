/**
 * The `meta` table: small named facts about this node's data (the mirror's
 * version, the sync status, the demo marker), written in the transaction of
 * the change they describe so that they commit with it.
 */
import type { DatabaseSync } from "node:sqlite";

/** The value stored under `name`, or undefined. */
export function readMeta(db: DatabaseSync, name: string): string | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE name = ?").get(name) as
    | { value: string }
    | undefined;
  return row?.value;
}

/** Whether a value is stored under `name`. */
export function hasMeta(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM meta WHERE name = ?").get(name) !== undefined;
}

/** Stores `value` under `name`, replacing what was there. */
export function writeMeta(db: DatabaseSync, name: string, value: string): void {
  db.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)").run(name, value);
}
