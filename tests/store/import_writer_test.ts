import assert from "node:assert/strict";
import {
  EntryRepository,
  type EntryRow,
  ORIGIN_LOCAL,
  ORIGIN_MIRROR,
} from "../../src/store/entries.ts";
import { type HeldRow, ImportWriter } from "../../src/store/import_writer.ts";
import { withDb } from "../_helpers.ts";

function row(id: number, verdict = 2): EntryRow {
  return {
    key: Uint8Array.of(1, id >> 8, id & 0xff, 0, 0),
    origin: ORIGIN_MIRROR,
    verdict,
    threat: null,
    categories: null,
    first_seen: null,
    last_seen: null,
    ttl: null,
    source: "unit",
  };
}

Deno.test("ImportWriter.write stages rows and finishWrites upserts them under its origin, a later row of a key winning", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    entries.upsert({ ...row(7, 1), origin: ORIGIN_LOCAL });
    using writer = new ImportWriter(db, ORIGIN_MIRROR);
    db.exec("BEGIN IMMEDIATE");
    const rows = Array.from({ length: 100 }, (_, i) => row(i));
    writer.write(rows, rows.map((_, i) => i + 1));
    writer.write([row(7, 4), row(200, 5)], [101, 102]);
    assert.equal(entries.count(), 1, "staged until finishWrites");
    writer.finishWrites();
    db.exec("COMMIT");
    assert.equal(entries.count(), 1 + 100 + 1);
    const mirror = db.prepare(
      "SELECT a.verdict AS verdict FROM entry e JOIN attr a ON a.id = e.attr " +
        "WHERE e.key = ? AND e.origin = 0",
    ).get(row(7).key);
    assert.equal(mirror?.verdict, 4, "the later row of a key stands");
    assert.equal(entries.get(row(7).key)?.origin, ORIGIN_LOCAL, "the override is untouched");
    assert.equal(entries.get(row(200).key)?.verdict, 5);
  });
});

Deno.test("ImportWriter lists held rows in key then line order, with the logged line of their key", async () => {
  await withDb((db) => {
    using writer = new ImportWriter(db, ORIGIN_MIRROR);
    db.exec("BEGIN IMMEDIATE");
    const none: number[] = [];
    writer.forEachHeldRow((r) => none.push(r.line));
    assert.deepEqual(none, [], "nothing held, nothing to read");
    // 130 logged rows: two chunks of 64 and a tail of 2.
    const rows = Array.from({ length: 130 }, (_, i) => row(i));
    writer.write(rows, rows.map((_, i) => i + 1));
    writer.hold(row(5, 3), 140);
    writer.hold(row(3, 4), 131);
    writer.hold(row(129, 5), 135);
    writer.hold(row(3, 2), 132);
    writer.hold(row(500, 1), 133);
    const seen: [number, number, number, number | null][] = [];
    writer.forEachHeldRow((r: HeldRow) =>
      seen.push([r.key[2] + 256 * r.key[1], r.line, r.verdict, r.firstLine])
    );
    assert.deepEqual(seen, [
      [3, 131, 4, 4],
      [3, 132, 2, 4],
      [5, 140, 3, 6],
      [129, 135, 5, 130],
      [500, 133, 1, null],
    ]);
    assert.deepEqual(writer.stored(row(5).key), { verdict: 2, threat: null, categories: null });
    db.exec("ROLLBACK");
  });
});

Deno.test("ImportWriter gives one outcome a line, a conflict if any of its keys conflicted", async () => {
  await withDb((db) => {
    using writer = new ImportWriter(db, ORIGIN_MIRROR);
    writer.addOutcome({ line: 9, conflict: false, message: null });
    writer.addOutcome({ line: 4, conflict: false, message: null });
    writer.addOutcome({ line: 9, conflict: true, message: "Conflicts" });
    writer.addOutcome({ line: 9, conflict: false, message: null });
    const outcomes: unknown[] = [];
    writer.forEachOutcome((o) => outcomes.push(o));
    assert.deepEqual(outcomes, [
      { line: 4, conflict: false, message: null },
      { line: 9, conflict: true, message: "Conflicts" },
    ]);
  });
});

Deno.test("ImportWriter detaches its log when disposed and leaves temp_store as it was", async () => {
  await withDb((db) => {
    const names = (): string[] =>
      db.prepare("PRAGMA database_list").all().map((r) => String(r.name));
    const tempStore = (): number => Number(db.prepare("PRAGMA temp_store").get()?.temp_store);
    const before = tempStore();
    {
      using writer = new ImportWriter(db, ORIGIN_MIRROR);
      assert.ok(names().includes("pksn_import"));
      assert.equal(tempStore(), before);
      writer.hold(row(1), 1);
      writer.forEachHeldRow(() => {});
      assert.equal(tempStore(), before);
    }
    assert.ok(!names().includes("pksn_import"));
    assert.equal(tempStore(), before);
  });
});
