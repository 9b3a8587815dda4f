/**
 * Versioned schema migrations. The schema version lives in `PRAGMA user_version`;
 * every pending migration runs in one transaction, so a crash or a failing step
 * leaves the database exactly at its old version.
 */
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../errors.ts";
import { transaction } from "./database.ts";

/** One schema step. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** All migrations, in order. Never edit a released one: add a new step. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "reputation entries",
    sql: `
      -- One row per look-up key and origin (0 mirror, 1 local override). The key is
      -- a type byte followed by the object's canonical bytes, so a file record with
      -- MD5, SHA-1 and SHA-256 is three rows that any of the hashes finds directly.
      CREATE TABLE entry (
        key        BLOB    NOT NULL,
        origin     INTEGER NOT NULL CHECK (origin IN (0, 1)),
        verdict    INTEGER NOT NULL,
        threat     TEXT,
        categories TEXT,
        first_seen INTEGER,
        last_seen  INTEGER,
        ttl        INTEGER,
        source     TEXT    NOT NULL,
        PRIMARY KEY (key, origin)
      ) WITHOUT ROWID;
      -- Small facts about this node's data (for example the demo marker).
      CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Reads the schema version of an open database. */
export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

/** Brings the database up to {@link SCHEMA_VERSION}; returns the versions applied. */
export function migrate(
  db: DatabaseSync,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  const target = migrations.length ? migrations[migrations.length - 1].version : 0;
  const current = schemaVersion(db);
  if (current > target) {
    throw new StoreError(
      `Cannot use database at schema version ${current}: this pksn knows versions up to ${target}; ` +
        "upgrade pksn or restore an older database",
    );
  }
  const pending = migrations.filter((m) => m.version > current);
  if (pending.length === 0) return [];
  transaction(db, () => {
    for (const step of pending) {
      try {
        db.exec(step.sql);
      } catch (err) {
        throw new StoreError(
          `Cannot migrate database to version ${step.version} (${step.name}): ${
            (err as Error).message
          }`,
          { cause: err },
        );
      }
      db.exec(`PRAGMA user_version = ${step.version}`);
    }
  });
  return pending.map((m) => m.version);
}
