/** Node-wide settings and the versioned statement texts. */
import type { DatabaseSync } from "node:sqlite";

/** Reads a setting, or undefined. */
export function getSetting(db: DatabaseSync, name: string): string | undefined {
  const row = db.prepare("SELECT value FROM setting WHERE name = ?").get(name) as
    | { value: string }
    | undefined;
  return row?.value;
}

/** Writes a setting. */
export function setSetting(db: DatabaseSync, name: string, value: string): void {
  db.prepare(
    "INSERT INTO setting (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
  ).run(name, value);
}

/** A stored statement version. */
export interface StatementRow {
  version: number;
  text: string;
  loaded_at: number;
}

/** The newest statement, or undefined when none is stored. */
export function currentStatement(db: DatabaseSync): StatementRow | undefined {
  return db.prepare("SELECT version, text, loaded_at FROM statement ORDER BY version DESC LIMIT 1")
    .get() as StatementRow | undefined;
}

/** Stores a statement text as the next version and returns that version. */
export function addStatement(db: DatabaseSync, text: string, at: number): number {
  const row = db.prepare(
    "INSERT INTO statement (version, text, loaded_at) " +
      "VALUES ((SELECT coalesce(max(version), 0) + 1 FROM statement), ?, ?) RETURNING version",
  ).get(text, at) as { version: number };
  return Number(row.version);
}
