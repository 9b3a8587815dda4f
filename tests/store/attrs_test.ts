import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { transaction } from "../../src/store/database.ts";
import { EntryRepository, type EntryRow, ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { integrityProblems } from "../../src/store/integrity.ts";
import { MirrorRowWriter } from "../../src/store/mirror_rows.ts";
import { withDb } from "../_helpers.ts";

function row(n: number, fields: Partial<EntryRow> = {}): EntryRow {
  return {
    key: Uint8Array.of(1, n),
    origin: ORIGIN_MIRROR,
    verdict: 2,
    threat: "Trojan.Win32.Agent",
    categories: null,
    first_seen: n,
    last_seen: null,
    ttl: null,
    source: "feed.ndjson",
    ...fields,
  };
}

function attrCount(db: DatabaseSync): number {
  return Number((db.prepare("SELECT count(*) AS n FROM attr").get() as { n: number }).n);
}

Deno.test("rows with the same attribute values share one attr row, NULLs included", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    transaction(db, () => {
      for (let n = 0; n < 200; n++) entries.upsert(row(n, n % 2 ? { threat: null } : {}));
    });
    assert.equal(attrCount(db), 2);
    assert.deepEqual({ ...entries.get(Uint8Array.of(1, 7)) }, row(7, { threat: null }));
  });
});

Deno.test("values that differ only in NULL against empty or zero get attr rows of their own", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    const rows = [
      row(1, { threat: null, categories: null, ttl: null }),
      row(2, { threat: "", categories: null, ttl: null }),
      row(3, { threat: null, categories: "", ttl: null }),
      row(4, { threat: null, categories: null, ttl: 0 }),
    ];
    for (const r of rows) entries.upsert(r);
    assert.equal(attrCount(db), 4);
    for (const r of rows) assert.deepEqual({ ...entries.get(r.key) }, r);
  });
});

Deno.test("an attr id from a rolled-back transaction is not remembered for other values", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    const writer = new MirrorRowWriter(db);
    const dates = { key: Uint8Array.of(1, 1), firstSeen: null, lastSeen: null };
    db.exec("BEGIN IMMEDIATE");
    writer.add(dates, {
      verdict: 2,
      threat: "Rolled.Back",
      categories: null,
      ttl: null,
      source: "a",
    });
    assert.equal(entries.get(dates.key)?.threat, "Rolled.Back");
    db.exec("ROLLBACK");
    // SQLite hands the same id to the next new set.
    writer.add(dates, { verdict: 3, threat: "Kept", categories: null, ttl: 5, source: "b" });
    const got = entries.get(dates.key);
    assert.deepEqual([got?.verdict, got?.threat, got?.ttl, got?.source], [3, "Kept", 5, "b"]);
  });
});

Deno.test("integrityProblems reports entry rows that name a missing attr row", async () => {
  await withDb((db) => {
    new EntryRepository(db).upsert(row(1));
    assert.deepEqual(integrityProblems(db), []);
    db.exec("DELETE FROM attr");
    assert.deepEqual(integrityProblems(db), ["1 entry rows name an attr row that does not exist"]);
  });
});
