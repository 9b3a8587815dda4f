/** The proxy cache: LRU in memory, bounded in entries and bytes, written behind to real SQLite. */
import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { memoryLogger } from "../../src/core/log.ts";
import { cacheKey, ProxyCache } from "../../src/proxy/cache.ts";
import { ProxyCacheTable, readGenerations } from "../../src/store/mod.ts";
import type { ParentAnswer } from "../../src/upstream/mod.ts";
import { fakeClock, withDb } from "../_helpers.ts";

const HOUR = 3600_000;
// More than the cache's 60 s between writes of a hit's used_at, so each step reaches the disk.
const STEP = 61_000;

function hex(n: number): string {
  return n.toString(16).padStart(32, "0");
}

function answer(n: number, verdict: ParentAnswer["verdict"] = "malicious"): ParentAnswer {
  return { type: "file", value: hex(n), verdict, ttl: 3600, source: "test" };
}

function key(n: number): string {
  return cacheKey("file", hex(n));
}

function cache(
  db: DatabaseSync,
  clock: ReturnType<typeof fakeClock>,
  options: { maxEntries?: number; maxBytes?: number; staleMs?: number } = {},
): ProxyCache {
  return new ProxyCache({
    table: new ProxyCacheTable(db),
    clock,
    log: memoryLogger(),
    maxEntries: options.maxEntries ?? 1000,
    maxBytes: options.maxBytes ?? 64 * 1024 * 1024,
    staleMs: options.staleMs ?? HOUR,
  });
}

function put(c: ProxyCache, clock: ReturnType<typeof fakeClock>, n: number): void {
  c.put("file", hex(n), answer(n), clock.now() + HOUR);
}

function rowCount(db: DatabaseSync): number {
  return Number((db.prepare("SELECT count(*) AS n FROM proxy_cache").get() as { n: number }).n);
}

function rowValues(db: DatabaseSync): string[] {
  const rows = db.prepare("SELECT value FROM proxy_cache ORDER BY value").all() as {
    value: string;
  }[];
  return rows.map((r) => r.value);
}

/**
 * The order in which a full cache evicts `expected` as fresh entries arrive, checked one at a
 * time; only evicted keys are read, since reading a present one would make it recent.
 */
function assertEvictionOrder(
  c: ProxyCache,
  clock: ReturnType<typeof fakeClock>,
  expected: number[],
): void {
  for (let i = 0; i < expected.length; i++) {
    clock.set(clock.now() + STEP);
    const before = c.size.evictions;
    put(c, clock, 1_000_000 + i);
    assert.equal(c.size.evictions, before + 1, `one eviction for filler ${i}`);
    assert.equal(c.get(key(expected[i])), undefined, `entry ${expected[i]} evicted ${i}th`);
  }
}

Deno.test("the cache evicts the least recently used entry, and a get protects an entry", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const c = cache(db, clock, { maxEntries: 3 });
    for (const n of [1, 2, 3]) put(c, clock, n);
    assert.deepEqual(c.get(key(1))?.answer, answer(1));
    put(c, clock, 4);
    assert.equal(c.get(key(2)), undefined);
    for (const n of [1, 3, 4]) assert.deepEqual(c.get(key(n))?.answer, answer(n));
    assert.deepEqual(c.size.entries, 3);
    assert.equal(c.size.evictions, 1);
    // The gets above made the order 1, 3, 4.
    assertEvictionOrder(c, clock, [1, 3, 4]);
  });
});

Deno.test("200,000 distinct answers never take the cache past maxEntries", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const c = cache(db, clock, { maxEntries: 1000 });
    for (let n = 0; n < 200_000; n++) put(c, clock, n);
    assert.equal(c.size.entries, 1000);
    assert.equal(c.size.evictions, 199_000);
    assert.equal(c.get(key(198_999)), undefined);
    assert.ok(c.get(key(199_000)));
    assert.ok(c.get(key(199_999)));
    c.flush();
    assert.equal(rowCount(db), 1000);
  });
});

Deno.test("200,000 distinct answers never take the cache past maxBytes", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const maxBytes = 64 * 1024;
    const c = cache(db, clock, { maxEntries: 1_000_000, maxBytes });
    for (let n = 0; n < 200_000; n++) {
      put(c, clock, n);
      if (n % 10_000 === 0) assert.ok(c.size.bytes <= maxBytes);
    }
    const { entries, bytes, evictions } = c.size;
    assert.ok(bytes <= maxBytes, `${bytes} bytes`);
    // Every entry here is the same size, so the cache holds as many as fit, and no fewer.
    const perEntry = bytes / entries;
    assert.equal(entries, Math.floor(maxBytes / perEntry));
    assert.ok(entries > 10);
    assert.equal(evictions, 200_000 - entries);
    assert.ok(c.get(key(199_999)));
    c.flush();
    assert.equal(rowCount(db), entries);
  });
});

Deno.test("after flush a new cache over the same table loads the same entries in the same LRU order", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const c = cache(db, clock, { maxEntries: 5 });
    for (const n of [1, 2, 3, 4, 5]) {
      clock.set(clock.now() + STEP);
      put(c, clock, n);
    }
    c.flush();
    // Hits after the first write: the order becomes 2, 4, 5, 1, 3.
    for (const n of [1, 3]) {
      clock.set(clock.now() + STEP);
      assert.ok(c.get(key(n)));
    }
    c.flush();
    assert.equal(rowCount(db), 5);

    const again = cache(db, clock, { maxEntries: 5 });
    again.load();
    assert.equal(again.size.entries, 5);
    assert.equal(again.size.bytes, c.size.bytes);
    assertEvictionOrder(again, clock, [2, 4, 5, 1, 3]);
  });
});

Deno.test("the database never holds more rows than maxEntries across many puts and flushes", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const c = cache(db, clock, { maxEntries: 50 });
    for (let n = 0; n < 500; n++) {
      clock.set(clock.now() + 1000);
      put(c, clock, n);
      // Hits on older entries, so some rows are touched as well as written and removed.
      if (n % 3 === 0) c.get(key(n - 20));
      if (n % 7 === 0) {
        c.flush();
        assert.ok(rowCount(db) <= 50, `${rowCount(db)} rows after ${n + 1} puts`);
      }
    }
    c.flush();
    assert.equal(rowCount(db), 50);
  });
});

Deno.test("a re-put answer evicted before the next flush leaves no row of the old answer behind", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const c = cache(db, clock, { maxEntries: 2 });
    c.put("file", hex(1), answer(1, "malicious"), clock.now() + HOUR);
    c.flush();
    clock.set(clock.now() + 1000);
    c.put("file", hex(1), answer(1, "clean"), clock.now() + HOUR);
    clock.set(clock.now() + 1000);
    put(c, clock, 2);
    clock.set(clock.now() + 1000);
    put(c, clock, 3);
    assert.equal(c.get(key(1)), undefined);
    c.flush();
    // The old "malicious" row would come back on the next start of a larger cache.
    assert.deepEqual(rowValues(db), [hex(2), hex(3)]);
  });
});

Deno.test("a re-put answer that expires before the next flush does not bring the old answer back on load", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const staleMs = 5000;
    const c = cache(db, clock, { staleMs });
    const start = clock.now();
    c.put("file", hex(1), answer(1, "malicious"), start + 24 * HOUR);
    c.flush();
    // The parent changed its mind, with a short TTL.
    c.put("file", hex(1), answer(1, "clean"), start + 1000);
    clock.set(start + 1000 + staleMs);
    assert.equal(c.get(key(1)), undefined);
    c.flush();

    const again = cache(db, clock, { staleMs });
    again.load();
    assert.equal(again.get(key(1)), undefined);
    assert.equal(rowCount(db), 0);
  });
});

Deno.test("an entry past expiresAt plus staleMs is gone on get", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const staleMs = 5000;
    const c = cache(db, clock, { staleMs });
    const start = clock.now();
    c.put("file", hex(1), answer(1), start + 1000);
    // Past its expiry but within staleMs it is still served (as stale, by the caller).
    clock.set(start + 1000 + staleMs - 1);
    assert.deepEqual(c.get(key(1))?.answer, answer(1));
    clock.set(start + 1000 + staleMs);
    assert.equal(c.get(key(1)), undefined);
    assert.equal(c.size.entries, 0);
    assert.equal(c.size.bytes, 0);
    assert.equal(c.size.evictions, 0);
  });
});

Deno.test("an entry written before it expired is not loaded once past stale, and its row is removed", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const staleMs = 5000;
    const c = cache(db, clock, { staleMs });
    const start = clock.now();
    c.put("file", hex(1), answer(1), start + 1000);
    c.put("file", hex(2), answer(2), start + HOUR);
    c.flush();
    assert.equal(rowCount(db), 2);

    clock.set(start + 1000 + staleMs);
    const again = cache(db, clock, { staleMs });
    again.load();
    assert.equal(again.size.entries, 1);
    assert.equal(again.get(key(1)), undefined);
    assert.deepEqual(again.get(key(2))?.answer, answer(2));
    again.flush();
    assert.deepEqual(rowValues(db), [hex(2)]);
  });
});

Deno.test("putting an answer again replaces the old one in memory and on disk", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const c = cache(db, clock);
    c.put("file", hex(1), answer(1, "malicious"), clock.now() + HOUR);
    c.flush();
    c.put("file", hex(1), answer(1, "clean"), clock.now() + 2 * HOUR);
    const got = c.get(key(1));
    assert.deepEqual(got?.answer, answer(1, "clean"));
    assert.equal(got?.expiresAt, clock.now() + 2 * HOUR);
    assert.equal(c.size.entries, 1);
    assert.equal(c.size.bytes, got?.bytes);
    assert.equal(c.size.evictions, 0);
    c.flush();
    assert.equal(rowCount(db), 1);

    const again = cache(db, clock);
    again.load();
    assert.deepEqual(again.get(key(1))?.answer, answer(1, "clean"));
  });
});

Deno.test("ProxyCacheTable.clear removes one type's or one object's rows and bumps the proxy generation", async () => {
  await withDb((db) => {
    const clock = fakeClock();
    const c = cache(db, clock);
    for (const n of [1, 2, 3]) put(c, clock, n);
    c.put("url", "http://example.test/a", {
      type: "url",
      value: "http://example.test/a",
      verdict: "phishing",
    }, clock.now() + HOUR);
    c.flush();
    assert.equal(rowCount(db), 4);
    const table = new ProxyCacheTable(db);
    const generation = readGenerations(db).proxy;

    assert.equal(table.clear({ type: "file", value: hex(2) }), 1);
    assert.deepEqual(rowValues(db), [hex(1), hex(3), "http://example.test/a"]);
    assert.equal(readGenerations(db).proxy, generation + 1);

    assert.equal(table.clear({ type: "url" }), 1);
    assert.deepEqual(rowValues(db), [hex(1), hex(3)]);
    assert.equal(readGenerations(db).proxy, generation + 2);
    assert.equal(table.generation(), generation + 2);

    assert.equal(table.clear(), 2);
    assert.equal(rowCount(db), 0);
    assert.equal(readGenerations(db).proxy, generation + 3);
  });
});
