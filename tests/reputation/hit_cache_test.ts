/**
 * The cache of recent hits: bounded in entries and bytes, what is asked often stays, and what is
 * asked once never enters.
 */
import assert from "node:assert/strict";
import { HitCache } from "../../src/reputation/hit_cache.ts";
import type { LookupResult } from "../../src/reputation/types.ts";

function result(value: string): LookupResult {
  return { type: "file", value, verdict: "malicious", via: "mirror" };
}

/** Offers a result twice: a key enters the cache on its second ask. */
function setTwice(cache: HitCache, key: string, r: LookupResult): void {
  cache.set(key, r);
  cache.set(key, r);
}

Deno.test("a result asked for once is not kept; asked again, it is", () => {
  const cache = new HitCache(100, 1 << 30);
  const r = result("v");
  assert.equal(cache.set("k", r), r, "set returns the result either way");
  assert.equal(cache.get("k"), undefined);
  assert.equal(cache.size.entries, 0);
  cache.set("k", r);
  assert.equal(cache.get("k"), r);
});

Deno.test("a scan of objects asked once each leaves the popular ones cached", () => {
  const cache = new HitCache(100, 1 << 30);
  for (let i = 0; i < 40; i++) setTwice(cache, `popular${i}`, result(`p${i}`));
  for (let i = 0; i < 100_000; i++) cache.set(`scan${i}`, result(`s${i}`));
  for (let i = 0; i < 40; i++) assert.equal(cache.get(`popular${i}`)?.value, `p${i}`);
  assert.ok(cache.size.entries <= 100, `${cache.size.entries} entries`);
});

Deno.test("the hit cache never holds more than its entries, and keeps the newest", () => {
  const cache = new HitCache(100, 1 << 30);
  for (let i = 0; i < 1000; i++) setTwice(cache, `k${i}`, result(`v${i}`));
  assert.ok(cache.size.entries <= 100, `${cache.size.entries} entries`);
  assert.ok(cache.size.entries >= 50, "at least the young generation is kept");
  assert.equal(cache.get("k999")?.value, "v999");
  assert.equal(cache.get("k0"), undefined);
});

Deno.test("the hit cache never holds more than its bytes", () => {
  const cache = new HitCache(1_000_000, 64 * 1024);
  const long = "x".repeat(4000);
  for (let i = 0; i < 200; i++) setTwice(cache, `k${i}`, result(`${long}${i}`));
  assert.ok(cache.size.bytes <= 64 * 1024, `${cache.size.bytes} bytes`);
  assert.ok(cache.size.entries > 2, `${cache.size.entries} entries`);
});

Deno.test("a hit asked again survives generations that drop the rest", () => {
  const cache = new HitCache(10, 1 << 30);
  setTwice(cache, "popular", result("p"));
  for (let i = 0; i < 100; i++) {
    setTwice(cache, `once${i}`, result(`${i}`));
    assert.equal(cache.get("popular")?.value, "p", `after ${i} other answers`);
  }
  assert.equal(cache.get("once0"), undefined);
  assert.ok(cache.size.entries <= 10);
});
