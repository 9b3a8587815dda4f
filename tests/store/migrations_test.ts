import assert from "node:assert/strict";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { StoreError } from "../../src/core/errors.ts";
import { openDatabase } from "../../src/store/database.ts";
import {
  EntryRepository,
  type EntryRow,
  ORIGIN_LOCAL,
  ORIGIN_MIRROR,
} from "../../src/store/entries.ts";
import { integrityProblems } from "../../src/store/integrity.ts";
import { MirrorRowReader, mirrorRows, mirrorRowsByKey } from "../../src/store/mirror_rows.ts";
import { OverrideTable } from "../../src/store/overrides.ts";
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
      "attr",
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
    new EntryRepository(db).upsert({
      key: Uint8Array.of(1, 2, 3, 4, 5),
      origin: ORIGIN_MIRROR,
      verdict: 2,
      threat: null,
      categories: null,
      first_seen: null,
      last_seen: null,
      ttl: null,
      source: "test",
    });
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

/** Rows as a version-5 database holds them: NULLs, a shared set, a local override over a mirror row. */
const V5_ROWS: EntryRow[] = [
  [
    Uint8Array.of(1, 0xaa),
    0,
    2,
    "Trojan-PSW.Win32.RedLine",
    null,
    1700000000,
    1700086400,
    86400,
    "a.ndjson",
  ],
  [
    Uint8Array.of(1, 0xab),
    0,
    2,
    "Trojan-PSW.Win32.RedLine",
    null,
    1700000001,
    null,
    86400,
    "a.ndjson",
  ],
  [Uint8Array.of(1, 0xac), 0, 2, null, null, null, null, null, "a.ndjson"],
  [Uint8Array.of(1, 0xad), 0, 2, null, '["x"]', null, null, 86400, "a.ndjson"],
  [Uint8Array.of(1, 0xae), 0, 2, "", "", null, null, 0, "a.ndjson"],
  [Uint8Array.of(3, 0x61), 0, 3, "Phish", '["bank","login"]', 5, 6, null, "b.csv"],
  [Uint8Array.of(3, 0x61), 1, 1, null, null, null, null, null, "admin"],
  [Uint8Array.of(3, 0x62), 1, 3, "Local", null, 7, 8, 60, "import.ndjson"],
].map(([key, origin, verdict, threat, categories, first_seen, last_seen, ttl, source]) => ({
  key,
  origin,
  verdict,
  threat,
  categories,
  first_seen,
  last_seen,
  ttl,
  source,
} as EntryRow));

Deno.test("migrating a version 5 database to 6 reads every row, note and NULL back as it was", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "pksn.db");
  const v5 = openDatabase(path);
  migrate(v5, MIGRATIONS.slice(0, 5));
  const insert = v5.prepare(
    "INSERT INTO entry (key, origin, verdict, threat, categories, first_seen, last_seen, ttl, " +
      "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  for (const r of V5_ROWS) {
    insert.run(
      r.key,
      r.origin,
      r.verdict,
      r.threat,
      r.categories,
      r.first_seen,
      r.last_seen,
      r.ttl,
      r.source,
    );
  }
  v5.prepare("INSERT INTO override_note VALUES (?, 'false positive', 'admin', 1700000000, NULL)")
    .run(Uint8Array.of(3, 0x61));
  v5.close();

  const db = openDatabase(path);
  try {
    assert.deepEqual(migrate(db), [6]);
    assert.deepEqual(columnNames(db, "entry"), [
      "key",
      "origin",
      "attr",
      "first_seen",
      "last_seen",
    ]);
    // The two RedLine rows share one attr row; "" and 0 are kept apart from NULL.
    assert.equal((db.prepare("SELECT count(*) AS n FROM attr").get() as { n: number }).n, 7);
    assert.deepEqual(integrityProblems(db), []);
    const plain = (r: object): object => ({ ...r });
    const entries = new EntryRepository(db);
    for (const r of V5_ROWS) {
      const winner = V5_ROWS.find((w) =>
        w.origin === ORIGIN_LOCAL && w.key.join() === r.key.join()
      ) ?? r;
      assert.deepEqual(plain(entries.get(r.key)!), plain(winner));
    }
    const mirror = V5_ROWS.filter((r) => r.origin === ORIGIN_MIRROR).map(({ origin: _, ...r }) =>
      r
    );
    assert.deepEqual([...mirrorRowsByKey(db)].map(plain), mirror);
    const unordered = [...mirrorRows(db)].map(plain);
    assert.deepEqual(unordered.length, mirror.length);
    for (const r of mirror) {
      assert.ok(unordered.some((u) => JSON.stringify(u) === JSON.stringify(plain(r))));
    }
    const reader = new MirrorRowReader(db);
    for (const r of mirror) {
      assert.deepEqual(reader.get(r.key), [
        r.verdict,
        r.threat,
        r.categories,
        r.first_seen,
        r.last_seen,
        r.ttl,
        r.source,
      ]);
    }
    const overrides = [...new OverrideTable(db).list()].map(plain);
    assert.deepEqual(
      overrides,
      [
        {
          ...plain(V5_ROWS[6]),
          origin: undefined,
          reason: "false positive",
          created_by: "admin",
          created_at: 1700000000,
          expires_at: null,
        },
        {
          ...plain(V5_ROWS[7]),
          origin: undefined,
          reason: null,
          created_by: null,
          created_at: null,
          expires_at: null,
        },
      ].map(({ origin: _, ...r }) => r),
    );
    assert.equal(
      (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'entry_local'").get() as {
        n: number;
      }).n,
      1,
    );
  } finally {
    db.close();
  }
});
