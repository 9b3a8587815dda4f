import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../../src/core/errors.ts";
import { openDatabase } from "../../src/store/database.ts";
import {
  migrate,
  type Migration,
  MIGRATIONS,
  SCHEMA_VERSION,
  schemaVersion,
} from "../../src/store/migrations.ts";
import { tempDir } from "../_helpers.ts";

const ADD_NOTE_COLUMN: Migration = {
  version: 2,
  name: "entry notes",
  sql: "ALTER TABLE entry ADD COLUMN note TEXT",
};

function tableNames(db: DatabaseSync): string[] {
  const rows = db.prepare(
    "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
  ).all() as { name: string }[];
  return rows.map((r) => r.name);
}

function columnNames(db: DatabaseSync, table: string): string[] {
  const rows = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
  return rows.map((r) => r.name);
}

function insertEntry(db: DatabaseSync, key: Uint8Array): void {
  db.prepare(
    "INSERT INTO entry (key, origin, verdict, source) VALUES (?, 0, 2, 'test')",
  ).run(key);
}

Deno.test("migrate brings a fresh database to SCHEMA_VERSION with every table", async () => {
  await using dir = await tempDir();
  const db = openDatabase(join(dir.path, "pksn.db"));
  try {
    assert.equal(schemaVersion(db), 0);
    const applied = migrate(db);
    assert.deepEqual(applied, MIGRATIONS.map((m) => m.version));
    assert.equal(schemaVersion(db), SCHEMA_VERSION);
    assert.deepEqual(tableNames(db), [
      "admin_account",
      "admin_session",
      "audit",
      "entry",
      "generation",
      "licence",
      "meta",
      "override_note",
      "participation",
      "proxy_cache",
      "sample",
      "setting",
      "statement",
      "stats_received",
      "upstream_spool",
    ]);
  } finally {
    db.close();
  }
});

Deno.test("running migrate again on a current database changes nothing", async () => {
  await using dir = await tempDir();
  const db = openDatabase(join(dir.path, "pksn.db"));
  try {
    migrate(db);
    insertEntry(db, Uint8Array.of(1, 2, 3, 4, 5));
    assert.deepEqual(migrate(db), []);
    assert.equal(schemaVersion(db), SCHEMA_VERSION);
    assert.equal((db.prepare("SELECT count(*) AS n FROM entry").get() as { n: number }).n, 1);
  } finally {
    db.close();
  }
});

Deno.test("a new migration step on a version 1 database keeps its rows", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "pksn.db");
  const v1 = openDatabase(path);
  migrate(v1, MIGRATIONS.slice(0, 1));
  insertEntry(v1, Uint8Array.of(1, 0xaa, 0xbb, 0xcc, 0xdd));
  insertEntry(v1, Uint8Array.of(3, 0x11, 0x22, 0x33, 0x44, 0x61));
  v1.close();

  const db = openDatabase(path);
  try {
    assert.equal(schemaVersion(db), 1);
    assert.deepEqual(migrate(db, [...MIGRATIONS.slice(0, 1), ADD_NOTE_COLUMN]), [2]);
    assert.equal(schemaVersion(db), 2);
    assert.ok(columnNames(db, "entry").includes("note"));
    const rows = db.prepare("SELECT key, verdict, note FROM entry ORDER BY key").all() as {
      key: Uint8Array;
      verdict: number;
      note: string | null;
    }[];
    assert.deepEqual(rows.map((r) => [[...r.key], r.verdict, r.note]), [
      [[1, 0xaa, 0xbb, 0xcc, 0xdd], 2, null],
      [[3, 0x11, 0x22, 0x33, 0x44, 0x61], 2, null],
    ]);
  } finally {
    db.close();
  }
});

Deno.test("a failing migration step leaves the version and schema as they were", async () => {
  await using dir = await tempDir();
  const db = openDatabase(join(dir.path, "pksn.db"));
  try {
    migrate(db, MIGRATIONS.slice(0, 1));
    insertEntry(db, Uint8Array.of(1, 9, 9, 9, 9));
    const broken: Migration[] = [
      ...MIGRATIONS.slice(0, 1),
      ADD_NOTE_COLUMN,
      {
        version: 3,
        name: "half a table",
        sql: "CREATE TABLE half (a TEXT); CREATE TABLE oops (a TEXT) THIS IS NOT SQL",
      },
    ];
    assert.throws(
      () => migrate(db, broken),
      (error: unknown) => {
        assert.ok(error instanceof StoreError);
        assert.match(error.message, /Cannot migrate database to version 3 \(half a table\)/);
        return true;
      },
    );
    assert.equal(schemaVersion(db), 1);
    assert.deepEqual(tableNames(db), ["entry", "meta"]);
    assert.ok(!columnNames(db, "entry").includes("note"), "step 2 was rolled back too");
    assert.equal((db.prepare("SELECT count(*) AS n FROM entry").get() as { n: number }).n, 1);
    assert.equal(db.isTransaction, false);
  } finally {
    db.close();
  }
});

Deno.test("a failing first migration leaves a fresh database empty at version 0", async () => {
  await using dir = await tempDir();
  const db = openDatabase(join(dir.path, "pksn.db"));
  try {
    const broken: Migration[] = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, name: "bad", sql: "CREATE TABLE (" },
    ];
    assert.throws(() => migrate(db, broken), StoreError);
    assert.equal(schemaVersion(db), 0);
    assert.deepEqual(tableNames(db), []);
  } finally {
    db.close();
  }
});

Deno.test("a database from a newer pksn is refused with a StoreError saying to upgrade", async () => {
  await using dir = await tempDir();
  const db = openDatabase(join(dir.path, "pksn.db"));
  try {
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 5}`);
    assert.throws(
      () => migrate(db),
      (error: unknown) => {
        assert.ok(error instanceof StoreError);
        assert.equal(error.code, "store_unavailable");
        assert.match(error.message, new RegExp(`schema version ${SCHEMA_VERSION + 5}`));
        assert.match(error.message, /upgrade pksn/);
        return true;
      },
    );
    assert.equal(schemaVersion(db), SCHEMA_VERSION + 5);
  } finally {
    db.close();
  }
});
