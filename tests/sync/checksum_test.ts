import assert from "node:assert/strict";
import {
  attributeHash,
  EMPTY_CHECKSUM,
  type Hash64,
  murmur3,
  rowHash,
  StateChecksum,
} from "../../src/feed/checksum.ts";
import { attributeText } from "../../src/feed/stream_format.ts";
import { digestKeyFromHex, ipKey, textKey } from "../../src/reputation/keys.ts";
import { EICAR_ATTRS, MD5 } from "./_stream.ts";

const encoder = new TextEncoder();

// Published MurmurHash3_x86_32 vectors (SMHasher; the well-known table of test values).
const MURMUR_VECTORS: [Uint8Array, number, number][] = [
  [new Uint8Array(0), 0, 0],
  [new Uint8Array(0), 1, 0x514e28b7],
  [new Uint8Array(0), 0xffffffff, 0x81f16f39],
  [Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
  [Uint8Array.of(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
  [Uint8Array.of(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
  [Uint8Array.of(0x21, 0x43, 0x65), 0, 0x7e4a8634],
  [Uint8Array.of(0x21, 0x43), 0, 0xa0f7b07a],
  [Uint8Array.of(0x21), 0, 0x72661cf4],
  [Uint8Array.of(0, 0, 0, 0), 0, 0x2362f9de],
  [Uint8Array.of(0, 0, 0), 0, 0x85f0b427],
  [Uint8Array.of(0, 0), 0, 0x30f4c306],
  [Uint8Array.of(0), 0, 0x514e28b7],
  [encoder.encode("Hello, world!"), 1234, 0xfaf6cdb3],
  [encoder.encode("Hello, world!"), 0x9747b28c, 0x24884cba],
  [encoder.encode("aaaa"), 0x9747b28c, 0x5a97808a],
  [encoder.encode("abc"), 0x9747b28c, 0xc84a62dd],
  [encoder.encode("The quick brown fox jumps over the lazy dog"), 0x9747b28c, 0x2fa826cd],
];

const SEED_A = 0x9747b28c;
const SEED_B = 0x5bd1e995;

function hex(h: Hash64): string {
  return h.map((n) => n.toString(16).padStart(8, "0")).join(" ");
}

// The vectors docs/feed-format.md gives publishers in other languages.
const EICAR_KEY = digestKeyFromHex("file", MD5);
const DOMAIN_KEY = textKey("domain", "evil.example");
const DOMAIN_ATTRS = { verdict: 3, threat: null, categories: null, ttl: null, source: "demo" };
const NET_KEY = ipKey(Uint8Array.of(192, 0, 2, 0), 24);

Deno.test("murmur3 matches the published MurmurHash3 x86 32-bit vectors", () => {
  for (const [bytes, seed, want] of MURMUR_VECTORS) {
    assert.equal(murmur3(bytes, seed), want, `${Array.from(bytes)} seed ${seed.toString(16)}`);
  }
});

Deno.test("murmur3 returns an unsigned 32-bit number", () => {
  for (let n = 0; n < 40; n++) {
    const h = murmur3(Uint8Array.from({ length: n }, (_, i) => (i * 77 + n) & 0xff), SEED_B);
    assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff, `${n}: ${h}`);
  }
});

Deno.test("attributeHash is murmur3 of the UTF-8 text with the two seeds", () => {
  const text = '[2,"Trojan.Win32.Ä",null,60,"demo"]';
  const bytes = encoder.encode(text);
  assert.deepEqual(attributeHash(text), [murmur3(bytes, SEED_A), murmur3(bytes, SEED_B)]);
});

Deno.test("attribute and row hashes match the documented vectors", () => {
  assert.equal(
    attributeText(EICAR_ATTRS),
    '[2,"EICAR-Test-File","[\\"demo\\"]",3600,"demo"]',
  );
  assert.equal(hex(attributeHash(attributeText(EICAR_ATTRS))), "713436ba 73569b1a");
  assert.equal(hex(attributeHash(attributeText(DOMAIN_ATTRS))), "4885c3c7 121ed390");
  const eicar = rowHash(EICAR_KEY, attributeHash(attributeText(EICAR_ATTRS)), 1764331200, null);
  const domain = rowHash(DOMAIN_KEY, attributeHash(attributeText(DOMAIN_ATTRS)), null, null);
  const net = rowHash(
    NET_KEY,
    attributeHash(attributeText(DOMAIN_ATTRS)),
    1764331200,
    1764417600,
  );
  assert.equal(hex(eicar), "66657760 551f70db");
  assert.equal(hex(domain), "3a1eca08 f4a8de28");
  assert.equal(hex(net), "41eef9d3 24fc8dc0");
  const sum = new StateChecksum();
  sum.add(eicar);
  sum.add(domain);
  assert.equal(sum.toHex(), "a084416849c84f03");
  sum.add(net);
  assert.equal(sum.toHex(), "e2733b3b6ec4dcc3");
  // A date past 2106 goes in through the high word.
  assert.equal(
    hex(rowHash(DOMAIN_KEY, attributeHash(attributeText(DOMAIN_ATTRS)), 32503680000, null)),
    "4c204493 b010332a",
  );
});

// The row hash as docs/feed-format.md writes it, from the MurmurHash3 helpers up.
function docMix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = ((k << 15) | (k >>> 17)) >>> 0;
  k = Math.imul(k, 0x1b873593);
  h = (h ^ k) >>> 0;
  h = ((h << 13) | (h >>> 19)) >>> 0;
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

function docFmix(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function docRowHash(
  key: Uint8Array,
  [attrA, attrB]: Hash64,
  firstSeen: number | null,
  lastSeen: number | null,
): Hash64 {
  const words = (date: number | null): [number, number] =>
    date === null ? [0xffffffff, 0xffffffff] : [Math.floor(date / 2 ** 32), date % 2 ** 32];
  const [firstHi, firstLo] = words(firstSeen);
  const [lastHi, lastLo] = words(lastSeen);
  let a = docMix(murmur3(key, SEED_A), attrA);
  for (const w of [firstHi, firstLo, lastHi, lastLo]) a = docMix(a, w);
  let b = docMix(murmur3(key, SEED_B), attrB);
  b = docMix(docMix(b, (firstHi ^ 0x5a5a5a5a) >>> 0), (firstLo ^ 0x5a5a5a5a) >>> 0);
  b = docMix(docMix(b, (lastHi ^ 0xa5a5a5a5) >>> 0), (lastLo ^ 0xa5a5a5a5) >>> 0);
  return [docFmix(a), docFmix(b)];
}

Deno.test("rowHash is the documented formula, for every kind of date", () => {
  const attr = attributeHash(attributeText(EICAR_ATTRS));
  const dates = [
    null,
    0,
    1,
    1764331200,
    2 ** 32 - 2,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1764331200,
    32503680000,
    Number.MAX_SAFE_INTEGER,
  ];
  for (const key of [EICAR_KEY, DOMAIN_KEY, NET_KEY]) {
    for (const first of dates) {
      for (const last of dates) {
        assert.deepEqual(
          rowHash(key, attr, first, last),
          docRowHash(key, attr, first, last),
          `${first} ${last}`,
        );
      }
    }
  }
});

Deno.test("rowHash changes with the key, the attributes and each date", () => {
  const attr = attributeHash(attributeText(EICAR_ATTRS));
  const base = hex(rowHash(EICAR_KEY, attr, 100, 200));
  const variants = [
    rowHash(digestKeyFromHex("cert", MD5), attr, 100, 200),
    rowHash(EICAR_KEY, attributeHash(attributeText({ ...EICAR_ATTRS, ttl: 3601 })), 100, 200),
    rowHash(EICAR_KEY, attr, 101, 200),
    rowHash(EICAR_KEY, attr, 100, 201),
    rowHash(EICAR_KEY, attr, 200, 100),
    rowHash(EICAR_KEY, attr, null, 200),
    rowHash(EICAR_KEY, attr, 100, null),
    rowHash(EICAR_KEY, attr, 0, 200),
  ];
  const seen = new Set([base, ...variants.map(hex)]);
  assert.equal(seen.size, variants.length + 1);
});

Deno.test("a missing date hashes differently from date 0", () => {
  const attr = attributeHash(attributeText(DOMAIN_ATTRS));
  assert.notDeepEqual(rowHash(DOMAIN_KEY, attr, null, null), rowHash(DOMAIN_KEY, attr, 0, 0));
  assert.notDeepEqual(rowHash(DOMAIN_KEY, attr, null, 5), rowHash(DOMAIN_KEY, attr, 5, null));
});

Deno.test("rowHash tells every date a stream can carry apart from a missing one", () => {
  // Dates enter as two 32-bit words: 2^32 - 1 (2106-02-07T06:28:15Z) is not "missing", and
  // dates 2^32 seconds apart (records allow up to 32503680000) hash differently.
  const attr = attributeHash(attributeText(DOMAIN_ATTRS));
  const missing = hex(rowHash(DOMAIN_KEY, attr, null, null));
  for (
    const date of [0xffffffff, 2 ** 32, 2 ** 32 * 0xffff + 0xffffffff, Number.MAX_SAFE_INTEGER]
  ) {
    assert.notEqual(hex(rowHash(DOMAIN_KEY, attr, date, null)), missing, `first ${date}`);
    assert.notEqual(hex(rowHash(DOMAIN_KEY, attr, null, date)), missing, `last ${date}`);
  }
  const seen = new Set<string>();
  for (const shift of [0, 1, 2, 4, 7]) {
    seen.add(hex(rowHash(DOMAIN_KEY, attr, 1764331200 + shift * 2 ** 32, null)));
    seen.add(hex(rowHash(DOMAIN_KEY, attr, null, 1764331200 + shift * 2 ** 32)));
  }
  assert.equal(seen.size, 10);
});

Deno.test("a new checksum is the empty checksum", () => {
  assert.equal(new StateChecksum().toHex(), EMPTY_CHECKSUM);
  assert.equal(EMPTY_CHECKSUM, "0000000000000000");
});

Deno.test("adding then subtracting the same rows returns to the empty checksum", () => {
  const attr = attributeHash(attributeText(EICAR_ATTRS));
  const rows = Array.from(
    { length: 50 },
    (_, i) => rowHash(textKey("url", `x.example/${i}`), attr, i, null),
  );
  const sum = new StateChecksum();
  for (const h of rows) sum.add(h);
  assert.notEqual(sum.toHex(), EMPTY_CHECKSUM);
  for (const h of rows.toReversed()) sum.subtract(h);
  assert.equal(sum.toHex(), EMPTY_CHECKSUM);
});

Deno.test("the checksum does not depend on the order rows are added or removed in", () => {
  const attr = attributeHash(attributeText(DOMAIN_ATTRS));
  const rows = Array.from(
    { length: 20 },
    (_, i) => rowHash(textKey("domain", `d${i}.example`), attr, null, i),
  );
  const forward = new StateChecksum();
  for (const h of rows) forward.add(h);
  const shuffled = new StateChecksum();
  for (const i of [7, 3, 19, 0, 12, 5, 1, 18, 2, 9, 4, 11, 6, 17, 8, 10, 16, 13, 15, 14]) {
    shuffled.add(rows[i]);
  }
  assert.equal(shuffled.toHex(), forward.toHex());
  // Removing a row before it was added (as a delta may order it) ends in the same place.
  const interleaved = new StateChecksum();
  interleaved.subtract(rows[0]);
  for (const h of rows) interleaved.add(h);
  interleaved.add(rows[0]);
  assert.equal(interleaved.toHex(), forward.toHex());
});

Deno.test("each lane wraps around modulo 2^32", () => {
  const sum = new StateChecksum();
  sum.add([0xffffffff, 0x80000000]);
  sum.add([0xffffffff, 0x80000000]);
  assert.equal(sum.toHex(), "fffffffe00000000");
  sum.add([2, 1]);
  assert.equal(sum.toHex(), "0000000000000001");
  const below = new StateChecksum();
  below.subtract([1, 2]);
  assert.equal(below.toHex(), "fffffffffffffffe");
});

Deno.test("the hex text is lane A then lane B, each 8 lower-case digits", () => {
  const sum = new StateChecksum();
  sum.add([0xab, 0xcdef0123]);
  assert.equal(sum.toHex(), "000000abcdef0123");
});

Deno.test("fromHex and toHex round-trip", () => {
  for (
    const text of [
      EMPTY_CHECKSUM,
      "ffffffffffffffff",
      "0000000100000002",
      "8000000000000001",
      "a084416849c84f03",
    ]
  ) {
    assert.equal(StateChecksum.fromHex(text).toHex(), text);
  }
});

Deno.test("a checksum resumed from hex goes on as if never stopped", () => {
  const attr = attributeHash(attributeText(EICAR_ATTRS));
  const a = rowHash(EICAR_KEY, attr, 1, 2);
  const b = rowHash(DOMAIN_KEY, attr, 3, 4);
  const whole = new StateChecksum();
  whole.add(a);
  whole.add(b);
  const first = new StateChecksum();
  first.add(a);
  const resumed = StateChecksum.fromHex(first.toHex());
  resumed.add(b);
  assert.equal(resumed.toHex(), whole.toHex());
});
