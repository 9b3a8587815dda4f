/**
 * Versioned schema migrations. The schema version lives in `PRAGMA user_version`;
 * every pending migration runs in one transaction, so a crash or a failing step
 * leaves the database exactly at its old version.
 */
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../core/mod.ts";
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
  {
    version: 2,
    name: "licences, participation, statement, admin, audit",
    sql: `
      -- A customer's licence. The key itself is never stored: key_hash is an
      -- HMAC-SHA-256 of it under the node's secret (DATA/node.secret), so a copy
      -- of the database alone does not allow guessing keys offline.
      CREATE TABLE licence (
        id          INTEGER PRIMARY KEY,
        key_hash    BLOB    NOT NULL UNIQUE,
        customer    TEXT    NOT NULL,
        valid_from  INTEGER NOT NULL,
        expires     INTEGER NOT NULL,
        state       TEXT    NOT NULL CHECK (state IN ('active', 'revoked')),
        modes       TEXT    NOT NULL,
        quota       INTEGER,
        notes       TEXT,
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER,
        grace_until INTEGER,
        replaced_by INTEGER REFERENCES licence (id)
      );
      -- The participation mode each licence's client chose, and the statement
      -- version it accepted.
      CREATE TABLE participation (
        licence_id        INTEGER PRIMARY KEY REFERENCES licence (id),
        mode              TEXT    NOT NULL,
        statement_version INTEGER,
        chosen_at         INTEGER NOT NULL
      );
      CREATE TABLE statement (
        version   INTEGER PRIMARY KEY,
        text      TEXT    NOT NULL,
        loaded_at INTEGER NOT NULL
      );
      -- Node-wide settings the operator changes at run time (participation mode).
      CREATE TABLE setting (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      -- Who changed what and when. Never key material.
      CREATE TABLE audit (
        id         INTEGER PRIMARY KEY,
        at         INTEGER NOT NULL,
        actor      TEXT    NOT NULL,
        action     TEXT    NOT NULL,
        licence_id INTEGER,
        detail     TEXT
      );
      -- The local admin account and its sessions (session ids stored hashed).
      CREATE TABLE admin_account (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        changed_at    INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE admin_session (
        id_hash    BLOB PRIMARY KEY,
        username   TEXT    NOT NULL,
        csrf_token TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Change counters: writers bump one per transaction, so a serving node can
      -- tell which in-memory state (index, licence cache) another process changed.
      CREATE TABLE generation (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO generation (name, value) VALUES ('entries', 0), ('licences', 0), ('settings', 0);
    `,
  },
  {
    version: 3,
    name: "statistics spool, received batches, samples",
    sql: `
      -- Batches waiting to go upstream: statistics (NDJSON) or a sample (by its
      -- SHA-256; the bytes stay in the quarantine folder). batch_id is the
      -- idempotency key the upstream deduplicates on, so a retry never doubles.
      CREATE TABLE upstream_spool (
        id              INTEGER PRIMARY KEY,
        kind            TEXT    NOT NULL CHECK (kind IN ('statistics', 'sample')),
        batch_id        TEXT    NOT NULL UNIQUE,
        body            BLOB    NOT NULL,
        bytes           INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT
      );
      -- Statistics batches this node accepted with an idempotency key (from a
      -- downstream node or a client), so a retried batch is stored once.
      CREATE TABLE stats_received (
        batch_id    TEXT    PRIMARY KEY,
        licence_id  INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        accepted    INTEGER NOT NULL,
        rejected    INTEGER NOT NULL
      ) WITHOUT ROWID;
      -- Samples in quarantine (content-addressed files under DATA/quarantine).
      CREATE TABLE sample (
        sha256      BLOB    PRIMARY KEY,
        size        INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        licence_id  INTEGER NOT NULL,
        meta        TEXT
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: "KSN proxy cache",
    sql: `
      -- Answers the parent node gave for objects this node does not hold, kept so
      -- they survive a restart. answer is the parent's result as JSON; times are
      -- milliseconds since the epoch; used_at orders least-recently-used eviction (read
      -- sorted once at start, so no index makes every write dearer).
      CREATE TABLE proxy_cache (
        type       TEXT    NOT NULL,
        value      TEXT    NOT NULL,
        answer     TEXT    NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER NOT NULL,
        bytes      INTEGER NOT NULL,
        PRIMARY KEY (type, value)
      ) WITHOUT ROWID;
      INSERT INTO generation (name, value) VALUES ('proxy', 0);
    `,
  },
  {
    version: 5,
    name: "override notes",
    sql: `
      -- Why the operator made a local override (entry origin 1), who, when (Unix seconds)
      -- and until when; expired ones are removed with their entry. Overrides written by
      -- \`pksn import --override\` have no note.
      CREATE TABLE override_note (
        key        BLOB    PRIMARY KEY,
        reason     TEXT,
        created_by TEXT,
        created_at INTEGER,
        expires_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX override_note_expiry ON override_note (expires_at)
        WHERE expires_at IS NOT NULL;
      -- Partial, so it holds only the few local rows: listing overrides then reads them
      -- without scanning millions of mirror rows. A snapshot swap recreates it.
      CREATE INDEX entry_local ON entry (key) WHERE origin = 1;
    `,
  },
  {
    version: 6,
    name: "entry attribute sets",
    sql: `
      -- Verdict, threat, categories, TTL and source repeat across millions of rows (a feed
      -- carries them as an attribute table too): each distinct set is stored once and entry
      -- rows name it by id, which about halves the file. Rows are never updated or deleted,
      -- so an id a process has cached stays right; a set no entry uses any more stays too
      -- (sets are few and small, and sweeping them would mean scanning every entry).
      CREATE TABLE attr (
        id         INTEGER PRIMARY KEY,
        verdict    INTEGER NOT NULL,
        threat     TEXT,
        categories TEXT,
        ttl        INTEGER,
        source     TEXT    NOT NULL
      );
      -- UNIQUE counts NULLs as distinct, so NULL is indexed as x'' (a BLOB, which no
      -- attribute ever is) and two sets that differ only in which field is NULL stay apart.
      CREATE UNIQUE INDEX attr_values ON attr (
        verdict, coalesce(threat, x''), coalesce(categories, x''), coalesce(ttl, x''), source
      );
      INSERT INTO attr (verdict, threat, categories, ttl, source)
        SELECT DISTINCT verdict, threat, categories, ttl, source FROM entry;
      CREATE TABLE entry_v6 (
        key        BLOB    NOT NULL,
        origin     INTEGER NOT NULL CHECK (origin IN (0, 1)),
        attr       INTEGER NOT NULL,
        first_seen INTEGER,
        last_seen  INTEGER,
        PRIMARY KEY (key, origin)
      ) WITHOUT ROWID;
      -- In key order: the new table is appended to rather than split at random.
      INSERT INTO entry_v6 (key, origin, attr, first_seen, last_seen)
        SELECT e.key, e.origin, a.id, e.first_seen, e.last_seen
        FROM entry AS e CROSS JOIN attr AS a
          ON a.verdict = e.verdict
          AND coalesce(a.threat, x'') = coalesce(e.threat, x'')
          AND coalesce(a.categories, x'') = coalesce(e.categories, x'')
          AND coalesce(a.ttl, x'') = coalesce(e.ttl, x'')
          AND a.source = e.source
        ORDER BY e.key, e.origin;
      DROP TABLE entry;
      ALTER TABLE entry_v6 RENAME TO entry;
      CREATE INDEX entry_local ON entry (key) WHERE origin = 1;
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
  const check = (current: number): void => {
    if (current > target) {
      throw new StoreError(
        `Cannot use database at schema version ${current}: this pksn knows versions up to ${target}; ` +
          "upgrade pksn or restore an older database",
      );
    }
  };
  const before = schemaVersion(db);
  check(before);
  if (!migrations.some((m) => m.version > before)) return [];
  // Read the version again under the write lock: another process opening the same
  // new data folder may have migrated it meanwhile.
  let pending: Migration[] = [];
  transaction(db, () => {
    const current = schemaVersion(db);
    check(current);
    pending = migrations.filter((m) => m.version > current);
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
