import assert from "node:assert/strict";
import { PrefixIndex } from "../../src/reputation/prefix_index.ts";

Deno.test("an empty prefix index has nothing, not even 0", () => {
  const index = new PrefixIndex(new Uint32Array(0));
  assert.equal(index.has(0), false);
  assert.equal(index.has(0xffffffff), false);
  assert.equal(index.size, 0);
});

Deno.test("a prefix index has exactly the prefixes it was built from", () => {
  const sorted = Uint32Array.of(3, 17, 1000, 0x7fffffff, 0x80000000, 0xdeadbeef);
  const index = new PrefixIndex(sorted);
  for (const p of sorted) assert.equal(index.has(p), true, `has ${p}`);
  for (const p of [0, 2, 4, 16, 18, 999, 1001, 0x7ffffffe, 0x80000001, 0xffffffff]) {
    assert.equal(index.has(p), false, `lacks ${p}`);
  }
});

Deno.test("a prefix index finds the boundary prefixes 0 and 0xffffffff", () => {
  const index = new PrefixIndex(Uint32Array.of(0, 5, 0xffffffff));
  assert.equal(index.has(0), true);
  assert.equal(index.has(0xffffffff), true);
  assert.equal(index.has(1), false);
  assert.equal(index.has(0xfffffffe), false);
});

Deno.test("a prefix index with a single entry finds only it", () => {
  const index = new PrefixIndex(Uint32Array.of(42));
  assert.equal(index.has(42), true);
  assert.equal(index.has(41), false);
  assert.equal(index.has(43), false);
});

Deno.test("a prefix index tolerates duplicates and counts them in size", () => {
  const index = new PrefixIndex(Uint32Array.of(7, 7, 7, 9, 9));
  assert.equal(index.has(7), true);
  assert.equal(index.has(9), true);
  assert.equal(index.has(8), false);
  assert.equal(index.size, 5);
});

Deno.test("add makes a prefix written after the build visible", () => {
  const index = new PrefixIndex(Uint32Array.of(10, 20));
  assert.equal(index.has(15), false);
  index.add(15);
  index.add(0xffffffff);
  index.add(0);
  assert.equal(index.has(15), true);
  assert.equal(index.has(0xffffffff), true);
  assert.equal(index.has(0), true);
  assert.equal(index.size, 5);
});

Deno.test("add of a prefix already held does not grow the index", () => {
  const index = new PrefixIndex(Uint32Array.of(10, 20));
  index.add(10);
  index.add(30);
  index.add(30);
  assert.equal(index.size, 3);
});

Deno.test("a prefix index over many random prefixes agrees with a Set", () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const values = Array.from({ length: 5000 }, next);
  const index = new PrefixIndex(Uint32Array.from(values).sort());
  const set = new Set(values);
  for (const v of values) assert.equal(index.has(v), true);
  for (let i = 0; i < 5000; i++) {
    const probe = next();
    assert.equal(index.has(probe), set.has(probe));
  }
});

Deno.test("byteLength counts two bytes per built prefix plus the 256 KiB bucket table", () => {
  assert.equal(new PrefixIndex(new Uint32Array(100)).byteLength, 200 + 65537 * 4);
});

Deno.test("an index rebuilt from its saved parts finds the same prefixes", () => {
  const sorted = Uint32Array.from([3, 0x0001ffff, 0x00020000, 0xabcd1234, 0xabcd1234, 0xffffffff]);
  const built = new PrefixIndex(sorted);
  const again = PrefixIndex.fromParts(built.starts.slice(), built.lows.slice());
  assert.ok(again !== null);
  for (const p of sorted) assert.ok(again.has(p), p.toString(16));
  for (const p of [4, 0x00010000, 0xabcd1235, 0xfffffffe]) assert.equal(again.has(p), false);
  assert.equal(again.size, sorted.length);
});

Deno.test("parts that are not an index's are refused", () => {
  const built = new PrefixIndex(Uint32Array.from([1, 2, 0x00050000]));
  const { starts, lows } = built;
  assert.equal(PrefixIndex.fromParts(starts.subarray(1), lows), null, "a short bucket table");
  assert.equal(PrefixIndex.fromParts(starts, lows.subarray(1)), null, "tails missing");
  const backwards = starts.slice();
  backwards[3] = 0;
  backwards[2] = 3;
  assert.equal(PrefixIndex.fromParts(backwards, lows), null, "a bucket that ends before it starts");
});

Deno.test("has finds prefixes at bucket edges and in empty neighbouring buckets", () => {
  const sorted = Uint32Array.from([0x0000ffff, 0x00010000, 0x0001ffff, 0xfffe0000, 0xffffffff]);
  const index = new PrefixIndex(sorted);
  for (const p of sorted) assert.ok(index.has(p), p.toString(16));
  for (const p of [0x00000000, 0x00020000, 0x7fffffff, 0xfffeffff, 0xfffffffe]) {
    assert.equal(index.has(p), false, p.toString(16));
  }
});

Deno.test("an index built from prefixes in any order, in steps, finds exactly them", async () => {
  let seed = 99;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const values = Uint32Array.from({ length: 3_000_000 }, next);
  let pauses = 0;
  const index = await PrefixIndex.fromUnsorted(values, () => {
    pauses++;
    return Promise.resolve();
  });
  assert.ok(pauses >= 3, `${pauses} pauses`);
  const sorted = new PrefixIndex(values.slice().sort());
  assert.deepEqual(index.starts, sorted.starts);
  assert.deepEqual(index.lows, sorted.lows);
  for (let i = 0; i < 1000; i++) assert.ok(index.has(values[i * 3000]));
});
