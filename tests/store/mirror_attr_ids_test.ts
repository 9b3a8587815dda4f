import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { transaction } from "../../src/store/database.ts";
import { EntryRepository, ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { integrityProblems } from "../../src/store/integrity.ts";
import { type MirrorAttributes, MirrorRowWriter } from "../../src/store/mirror_rows.ts";
import { SnapshotTable } from "../../src/store/mirror_tables.ts";
import { withDb } from "../_helpers.ts";

const KEPT: MirrorAttributes = {
  verdict: 2,
  threat: "Trojan.Kept",
  categories: "trojan",
  ttl: 3600,
  source: "feed",
};
const ROLLED_BACK: MirrorAttributes = {
  verdict: 2,
  threat: "Rolled.Back",
  categories: null,
  ttl: null,
  source: "feed",
};
const LATER: MirrorAttributes = { verdict: 3, threat: null, categories: "x", ttl: 5, source: "b" };

function dates(n: number): { key: Uint8Array; firstSeen: number; lastSeen: null } {
  return { key: Uint8Array.of(7, n), firstSeen: n, lastSeen: null };
}

/** Commits an attr row holding `attrs` through a mirror row that is removed again. */
function commitAttrRow(db: DatabaseSync, attrs: MirrorAttributes): void {
  const writer = new MirrorRowWriter(db);
  transaction(db, () => {
    writer.add(dates(255), attrs);
    writer.remove(dates(255).key);
  });
}

function attributesOf(db: DatabaseSync, n: number): MirrorAttributes | undefined {
  const row = new EntryRepository(db).get(dates(n).key);
  if (row === undefined) return undefined;
  const { verdict, threat, categories, ttl, source } = row;
  return { verdict, threat, categories, ttl, source };
}

function rollBack(db: DatabaseSync, writes: () => void): void {
  assert.throws(() =>
    transaction(db, () => {
      writes();
      throw new Error("roll back");
    }), /roll back/);
}

Deno.test("a snapshot chunk that rolls back leaves no attr id behind for the next chunk", async () => {
  await withDb((db) => {
    commitAttrRow(db, KEPT);
    const next = SnapshotTable.create(db)!;
    rollBack(db, () => {
      next.put(dates(1), KEPT);
      next.put(dates(2), ROLLED_BACK);
    });
    // LATER takes the id ROLLED_BACK had; ROLLED_BACK gets a new one.
    transaction(db, () => {
      next.put(dates(3), LATER);
      next.put(dates(4), ROLLED_BACK);
      next.put(dates(5), KEPT);
    });
    next.swapIn(() => {});
    next.drop();
    assert.deepEqual(integrityProblems(db), []);
    assert.equal(attributesOf(db, 1), undefined);
    assert.equal(attributesOf(db, 2), undefined);
    assert.deepEqual(attributesOf(db, 3), LATER);
    assert.deepEqual(attributesOf(db, 4), ROLLED_BACK);
    assert.deepEqual(attributesOf(db, 5), KEPT);
  });
});

Deno.test("a delta writer used across a rollback names the right attr rows after it", async () => {
  await withDb((db) => {
    commitAttrRow(db, KEPT);
    const writer = new MirrorRowWriter(db);
    rollBack(db, () => {
      writer.add(dates(1), KEPT);
      writer.add(dates(2), ROLLED_BACK);
    });
    transaction(db, () => {
      writer.add(dates(3), LATER);
      writer.add(dates(4), ROLLED_BACK);
      writer.add(dates(5), KEPT);
      writer.update(dates(3), KEPT);
      writer.update(dates(5), ROLLED_BACK);
    });
    assert.deepEqual(integrityProblems(db), []);
    assert.equal(attributesOf(db, 2), undefined);
    assert.deepEqual(attributesOf(db, 3), KEPT);
    assert.deepEqual(attributesOf(db, 4), ROLLED_BACK);
    assert.deepEqual(attributesOf(db, 5), ROLLED_BACK);
    const got = new EntryRepository(db).get(dates(3).key);
    assert.deepEqual([got?.origin, got?.first_seen, got?.last_seen], [ORIGIN_MIRROR, 3, null]);
  });
});

Deno.test("an attribute object changed in place between rows is looked up again", async () => {
  await withDb((db) => {
    commitAttrRow(db, KEPT);
    commitAttrRow(db, LATER);
    const attrs = { ...KEPT };
    const writer = new MirrorRowWriter(db);
    transaction(db, () => {
      writer.add(dates(1), attrs);
      Object.assign(attrs, LATER);
      writer.add(dates(2), attrs);
      Object.assign(attrs, ROLLED_BACK);
      writer.add(dates(3), attrs);
    });
    assert.deepEqual(attributesOf(db, 1), KEPT);
    assert.deepEqual(attributesOf(db, 2), LATER);
    assert.deepEqual(attributesOf(db, 3), ROLLED_BACK);
  });
});

Deno.test("a delta writer made inside a transaction still names the right attr rows", async () => {
  await withDb((db) => {
    commitAttrRow(db, KEPT);
    transaction(db, () => {
      const writer = new MirrorRowWriter(db);
      writer.add(dates(1), LATER);
      writer.add(dates(2), KEPT);
    });
    assert.deepEqual(attributesOf(db, 1), LATER);
    assert.deepEqual(attributesOf(db, 2), KEPT);
  });
});
