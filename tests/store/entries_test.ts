import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { transaction } from "../../src/store/database.ts";
import {
  countByLead,
  distinctKeyTails,
  EntryRepository,
  type EntryRow,
  type Origin,
  ORIGIN_LOCAL,
  ORIGIN_MIRROR,
  scanKeyPrefixes,
} from "../../src/store/entries.ts";
import { keyPrefix } from "../../src/reputation/keys.ts";
import { withDb } from "../_helpers.ts";

function row(key: Uint8Array, origin: Origin, overrides: Partial<EntryRow> = {}): EntryRow {
  return {
    key,
    origin,
    verdict: 2,
    threat: "Trojan.Test",
    categories: '["test"]',
    first_seen: 1_700_000_000,
    last_seen: 1_800_000_000,
    ttl: 600,
    source: "unit",
    ...overrides,
  };
}

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomKey(next: () => number, lead: number, length: number): Uint8Array {
  const key = new Uint8Array(length);
  key[0] = lead;
  for (let i = 1; i < length; i++) key[i] = Math.floor(next() * 256);
  return key;
}

/** Every stored row of a key, local first, read with SQL rather than through the repository. */
function rowsOf(db: DatabaseSync, key: Uint8Array): { origin: number; verdict: number }[] {
  const rows = db.prepare(
    "SELECT e.origin AS origin, a.verdict AS verdict FROM entry e JOIN attr a ON a.id = e.attr " +
      "WHERE e.key = ? ORDER BY e.origin DESC",
  ).all(key) as { origin: number; verdict: number }[];
  // node:sqlite rows have a null prototype; copy them so deepEqual compares values only.
  return rows.map((r) => ({ origin: r.origin, verdict: r.verdict }));
}

Deno.test("EntryRepository.get returns what upsert stored, key bytes included", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    const key = Uint8Array.of(1, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff);
    entries.upsert(row(key, ORIGIN_MIRROR));
    const stored = entries.get(key);
    assert.ok(stored);
    assert.deepEqual({ ...stored, key: [...stored.key] }, {
      ...row(key, ORIGIN_MIRROR),
      key: [...key],
    });
  });
});

Deno.test("EntryRepository.get of an unknown key is undefined", async () => {
  await withDb((db) => {
    assert.equal(new EntryRepository(db).get(Uint8Array.of(1, 2, 3, 4, 5)), undefined);
  });
});

Deno.test("EntryRepository.get does not match a key that only shares a prefix", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    entries.upsert(row(Uint8Array.of(3, 1, 2, 3, 4, 0x61, 0x62), ORIGIN_MIRROR));
    assert.equal(entries.get(Uint8Array.of(3, 1, 2, 3, 4, 0x61)), undefined);
  });
});

Deno.test("EntryRepository.upsert replaces the row of the same key and origin", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    const key = Uint8Array.of(3, 1, 2, 3, 4, 0x61);
    entries.upsert(row(key, ORIGIN_MIRROR));
    entries.upsert(row(key, ORIGIN_MIRROR, { verdict: 1, threat: null, ttl: null }));
    const stored = entries.get(key);
    assert.equal(stored?.verdict, 1);
    assert.equal(stored?.threat, null);
    assert.equal(stored?.ttl, null);
    assert.equal(entries.count(), 1);
  });
});

Deno.test("EntryRepository.get returns the local override when the mirror has the key too", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    const key = Uint8Array.of(3, 9, 8, 7, 6, 0x62);
    entries.upsert(row(key, ORIGIN_MIRROR, { verdict: 2 }));
    entries.upsert(row(key, ORIGIN_LOCAL, { verdict: 1 }));
    assert.equal(entries.get(key)?.origin, ORIGIN_LOCAL);
    assert.equal(entries.get(key)?.verdict, 1);
    assert.deepEqual(rowsOf(db, key), [{ origin: ORIGIN_LOCAL, verdict: 1 }, {
      origin: ORIGIN_MIRROR,
      verdict: 2,
    }]);
  });
});

Deno.test("EntryRepository.delete removes only the given origin and reports whether it existed", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    const key = Uint8Array.of(2, 1, 1, 1, 1, 0x63);
    entries.upsert(row(key, ORIGIN_MIRROR));
    entries.upsert(row(key, ORIGIN_LOCAL));
    assert.equal(entries.delete(key, ORIGIN_LOCAL), true);
    assert.equal(entries.delete(key, ORIGIN_LOCAL), false);
    assert.equal(entries.get(key)?.origin, ORIGIN_MIRROR);
    assert.equal(entries.count(), 1);
    assert.equal(entries.delete(key, ORIGIN_MIRROR), true);
    assert.equal(entries.get(key), undefined);
  });
});

Deno.test("scanKeyPrefixes returns the keyPrefix of every key of the given leads", async () => {
  await withDb(async (db) => {
    const entries = new EntryRepository(db);
    const next = random(20261128);
    const expected: number[] = [];
    const lengths: Record<number, number[]> = { 1: [17, 21, 33], 2: [12, 40], 3: [9], 4: [10, 22] };
    transaction(db, () => {
      for (const lead of [1, 2, 3, 4]) {
        for (let i = 0; i < 1500; i++) {
          const options = lengths[lead];
          const key = randomKey(next, lead, options[i % options.length]);
          entries.upsert(row(key, i % 7 === 0 ? ORIGIN_LOCAL : ORIGIN_MIRROR));
          expected.push(keyPrefix(key));
        }
      }
      // Chunk boundaries: second byte 0x00 and 0xff, and the extremes of the 32-bit prefix.
      for (
        const edge of [[0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff], [0xff, 0, 0, 1], [0, 0xff, 1, 2]]
      ) {
        const key = Uint8Array.of(2, ...edge, 0x41);
        entries.upsert(row(key, ORIGIN_MIRROR));
        entries.upsert(row(key, ORIGIN_LOCAL));
        expected.push(keyPrefix(key), keyPrefix(key));
      }
      // A lead not asked for must not leak in.
      for (let i = 0; i < 50; i++) entries.upsert(row(randomKey(next, 5, 21), ORIGIN_MIRROR));
    });
    const prefixes = await scanKeyPrefixes(db, [1, 2, 3, 4]);
    assert.equal(prefixes.length, expected.length);
    assert.deepEqual([...prefixes].sort((a, b) => a - b), expected.sort((a, b) => a - b));
  });
});

Deno.test("scanKeyPrefixes of an empty table is empty and never pauses", async () => {
  await withDb(async (db) => {
    let pauses = 0;
    const prefixes = await scanKeyPrefixes(db, [1, 2, 3, 4, 5], () => {
      pauses++;
      return Promise.resolve();
    });
    assert.equal(prefixes.length, 0);
    assert.equal(pauses, 0);
  });
});

Deno.test("scanKeyPrefixes pauses between non-empty chunks", async () => {
  await withDb(async (db) => {
    const entries = new EntryRepository(db);
    entries.upsert(row(Uint8Array.of(1, 0x10, 0, 0, 0, 0), ORIGIN_MIRROR));
    entries.upsert(row(Uint8Array.of(1, 0x20, 0, 0, 0, 0), ORIGIN_MIRROR));
    entries.upsert(row(Uint8Array.of(3, 0x20, 0, 0, 1, 0), ORIGIN_MIRROR));
    let pauses = 0;
    await scanKeyPrefixes(db, [1, 3], () => {
      pauses++;
      return Promise.resolve();
    });
    // Three non-empty key ranges, each counted and then scanned.
    assert.equal(pauses, 6);
  });
});

Deno.test("countByLead counts mirror and local rows of one lead byte only", async () => {
  await withDb(async (db) => {
    const entries = new EntryRepository(db);
    entries.upsert(row(Uint8Array.of(3, 0, 0, 0, 0, 1), ORIGIN_MIRROR));
    entries.upsert(row(Uint8Array.of(3, 0xff, 0xff, 0xff, 0xff, 2), ORIGIN_MIRROR));
    entries.upsert(row(Uint8Array.of(3, 0xff, 0xff, 0xff, 0xff, 2), ORIGIN_LOCAL));
    entries.upsert(row(Uint8Array.of(2, 0xff, 0xff, 0xff, 0xff, 2), ORIGIN_LOCAL));
    entries.upsert(row(Uint8Array.of(4, 0, 0, 0, 0, 0), ORIGIN_MIRROR));
    let pauses = 0;
    const pause = (): Promise<void> => Promise.resolve(void pauses++);
    assert.deepEqual(await countByLead(db, 3, pause), { mirror: 2, local: 1 });
    assert.equal(pauses, 2, "a pause after each key range that held rows");
    assert.deepEqual(await countByLead(db, 2), { mirror: 0, local: 1 });
    assert.deepEqual(await countByLead(db, 1), { mirror: 0, local: 0 });
  });
});

Deno.test("distinctKeyTails lists each (length, last byte) pair of a lead once", async () => {
  await withDb((db) => {
    const entries = new EntryRepository(db);
    entries.upsert(row(Uint8Array.of(4, 1, 2, 3, 4, 10, 0, 0, 0, 8), ORIGIN_MIRROR));
    entries.upsert(row(Uint8Array.of(4, 5, 6, 7, 8, 11, 0, 0, 0, 8), ORIGIN_MIRROR));
    entries.upsert(row(Uint8Array.of(4, 5, 6, 7, 8, 11, 0, 0, 0, 8), ORIGIN_LOCAL));
    entries.upsert(row(Uint8Array.of(4, 9, 9, 9, 9, 192, 0, 2, 1, 32), ORIGIN_MIRROR));
    const v6 = new Uint8Array(22);
    v6.set([4, 1, 1, 1, 1, 0x20, 0x01, 0x0d, 0xb8]);
    v6[21] = 0xff;
    entries.upsert(row(v6, ORIGIN_MIRROR));
    entries.upsert(row(Uint8Array.of(3, 1, 1, 1, 1, 0x63), ORIGIN_MIRROR));
    const tails = distinctKeyTails(db, 4).sort((a, b) => a.length - b.length || a.last - b.last);
    assert.deepEqual(tails, [
      { length: 10, last: 8 },
      { length: 10, last: 32 },
      { length: 22, last: 255 },
    ]);
  });
});
