import assert from "node:assert/strict";
import { canonicalBytes, canonicalJson } from "../../src/feed/canonical_json.ts";

Deno.test("canonicalJson sorts object keys at every depth", () => {
  const value = { b: 1, a: { d: [{ z: 1, y: 2 }], c: null } };
  assert.equal(canonicalJson(value), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});

Deno.test("canonicalJson gives the same text whatever order the keys were written in", () => {
  const one = { type: "timestamp", version: 3, manifest: { name: "m", length: 9 } };
  const two = { manifest: { length: 9, name: "m" }, version: 3, type: "timestamp" };
  assert.equal(canonicalJson(one), canonicalJson(two));
});

Deno.test("canonicalJson sorts keys by UTF-16 code unit, upper case before lower case", () => {
  assert.equal(
    canonicalJson({ a: 1, B: 2, _: 3, "10": 4, "9": 5 }),
    '{"10":4,"9":5,"B":2,"_":3,"a":1}',
  );
});

Deno.test("canonicalJson writes no whitespace between tokens", () => {
  const text = canonicalJson({ list: [1, 2, [3, { k: "v w" }]], flag: true, none: null });
  assert.equal(text, '{"flag":true,"list":[1,2,[3,{"k":"v w"}]],"none":null}');
});

Deno.test("canonicalJson escapes strings as JSON.stringify does and keeps non-ASCII raw", () => {
  assert.equal(canonicalJson('q"b\\s\n\t\u0001/é€'), '"q\\"b\\\\s\\n\\t\\u0001/é€"');
});

Deno.test("canonicalJson writes integers in plain decimal, -0 as 0", () => {
  assert.equal(canonicalJson([0, -0, -7, 9007199254740991]), "[0,0,-7,9007199254740991]");
});

Deno.test("canonicalJson rejects floats, NaN, infinities and unsafe integers", () => {
  for (const value of [1.5, 0.1, NaN, Infinity, -Infinity, 2 ** 53, { nested: [1e-7] }]) {
    assert.throws(() => canonicalJson(value), TypeError, String(value));
  }
  assert.throws(() => canonicalJson(1.5), /Canonical JSON allows only safe integers, not 1\.5/);
});

Deno.test("canonicalJson leaves out properties whose value is undefined", () => {
  assert.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
});

Deno.test("canonicalJson rejects values JSON cannot hold", () => {
  assert.throws(() => canonicalJson(undefined), /cannot hold a undefined/);
  assert.throws(() => canonicalJson([1n]), /cannot hold a bigint/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /cannot hold a function/);
});

Deno.test("canonicalBytes is the UTF-8 encoding of canonicalJson", () => {
  const value = { z: "é", a: [1] };
  const bytes = canonicalBytes(value);
  assert.deepEqual(bytes, new TextEncoder().encode('{"a":[1],"z":"é"}'));
  assert.equal(bytes.length, 18); // 17 characters, "é" takes two bytes
});
