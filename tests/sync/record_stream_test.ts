import assert from "node:assert/strict";
import { join } from "node:path";
import { digestKeyFromHex, fnv1a, ipKey, textKey } from "../../src/reputation/keys.ts";
import { maskTo, parseNetwork } from "../../src/reputation/ip.ts";
import { recordRows, recordSchema } from "../../src/reputation/records.ts";
import { ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { attributeHash, EMPTY_CHECKSUM } from "../../src/feed/checksum.ts";
import {
  type Attributes,
  attributeText,
  compareKeys,
  type FeedRecord,
  keyProblem,
  MAX_ATTRIBUTE_BYTES,
  MAX_KEY_BYTES,
  OP_ADD,
  OP_REMOVE,
  OP_UPDATE,
  type StreamKind,
} from "../../src/feed/stream_format.ts";
import {
  bufferSource,
  type ByteSource,
  fileSource,
  StreamReader,
} from "../../src/feed/stream_reader.ts";
import { StreamWriter } from "../../src/feed/stream_writer.ts";
import { SyncError } from "../../src/feed/sync_error.ts";
import { tempDir } from "../_helpers.ts";
import {
  ADWARE,
  applyChecked,
  BASE_ROWS,
  checksumOf,
  COLLIDING,
  concat,
  D1,
  D2,
  deltaFrom,
  EICAR_ATTRS,
  encoder,
  hexBytes,
  hexOf,
  KEYS,
  MALWARE,
  MD5,
  network,
  Noticed,
  PHISHING,
  raw,
  rawHeader,
  readAll,
  type Row,
  snapshotOf,
  type State,
  stored,
  storedOf,
  throwsFeed,
  varint,
  writeStream,
} from "./_stream.ts";

// ---------------------------------------------------------------------------------------------
// Round trips

Deno.test("a snapshot with keys of all five types round-trips", () => {
  const rows: Row[] = KEYS.map((key, i) => ({
    key,
    attrs: [MALWARE, PHISHING, ADWARE][i % 3],
    firstSeen: i % 2 ? D1 + i : null,
    lastSeen: i % 4 < 2 ? D2 + i : null,
  }));
  const header = {
    version: 42,
    fromVersion: 0,
    baseChecksum: EMPTY_CHECKSUM,
    checksum: "0123456789abcdef",
  };
  const { bytes, records } = writeStream("snapshot", rows, header);
  const decoded = readAll(bytes);
  assert.deepEqual(decoded.header, { kind: "snapshot", ...header, records: KEYS.length });
  assert.deepEqual(decoded.attributes, [MALWARE, PHISHING, ADWARE]);
  assert.deepEqual(decoded.records, records);
});

Deno.test("a delta with adds, updates and removes round-trips", () => {
  const rows: Row[] = [
    { op: OP_ADD, key: KEYS[0], attrs: PHISHING, firstSeen: D1, lastSeen: D2 },
    {
      op: OP_UPDATE,
      key: KEYS[1],
      attrs: ADWARE,
      firstSeen: null,
      lastSeen: null,
      replaces: [0, 0xffffffff],
    },
    { op: OP_REMOVE, key: KEYS[2], replaces: [0x80000000, 1] },
    {
      op: OP_UPDATE,
      key: KEYS[7],
      attrs: MALWARE,
      firstSeen: D1,
      lastSeen: null,
      replaces: [0x12345678, 0x9abcdef0],
    },
    { op: OP_REMOVE, key: KEYS[8], replaces: [0xffffffff, 0] },
    { op: OP_ADD, key: KEYS[13], attrs: PHISHING, firstSeen: null, lastSeen: D2 },
    { op: OP_REMOVE, key: KEYS[KEYS.length - 1], replaces: [5, 6] },
  ];
  const header = {
    version: 8,
    fromVersion: 7,
    baseChecksum: "ffffffff00000001",
    checksum: "00000001ffffffff",
  };
  const { bytes, records } = writeStream("delta", rows, header);
  const decoded = readAll(bytes);
  assert.deepEqual(decoded.header, { kind: "delta", ...header, records: rows.length });
  assert.deepEqual(decoded.records, records);
  // A removal carries no attribute and no dates.
  assert.deepEqual(decoded.records[2], {
    op: OP_REMOVE,
    key: KEYS[2],
    attr: -1,
    firstSeen: null,
    lastSeen: null,
    replaces: [0x80000000, 1],
  });
});

Deno.test("a stream with no records round-trips", () => {
  const writer = new StreamWriter("delta");
  const header = {
    version: 3,
    fromVersion: 2,
    baseChecksum: "00000000000000aa",
    checksum: "00000000000000aa",
  };
  const decoded = readAll(concat(writer.finish(header)));
  assert.deepEqual(decoded.header, { kind: "delta", ...header, records: 0 });
  assert.deepEqual(decoded.attributes, []);
  assert.deepEqual(decoded.records, []);
});

Deno.test("URL keys sharing more than 255 bytes round-trip", () => {
  assert.equal(fnv1a(encoder.encode(COLLIDING[0])), fnv1a(encoder.encode(COLLIDING[1])));
  const keys = COLLIDING.map((text) => textKey("url", text)).sort(compareKeys);
  let shared = 0;
  while (keys[0][shared] === keys[1][shared]) shared++;
  assert.ok(shared > 255, `shared ${shared}`);
  const { bytes, records } = writeStream("snapshot", keys.map((key) => ({ key })), {
    version: 1,
    fromVersion: 0,
    baseChecksum: EMPTY_CHECKSUM,
    checksum: EMPTY_CHECKSUM,
  });
  assert.deepEqual(readAll(bytes).records, records);
});

Deno.test("IPv4 and IPv6 hosts and networks round-trip with their prefix lengths", () => {
  const texts = [
    "192.0.2.1",
    "192.0.2.0/24",
    "10.0.0.0/8",
    "0.0.0.0/0",
    "2001:db8::1",
    "2001:db8::/32",
    "fe80::/10",
    "::/0",
  ];
  const keys = texts.map(network).sort(compareKeys);
  const { bytes, records } = writeStream("snapshot", keys.map((key) => ({ key })), {
    version: 1,
    fromVersion: 0,
    baseChecksum: EMPTY_CHECKSUM,
    checksum: EMPTY_CHECKSUM,
  });
  const decoded = readAll(bytes).records;
  assert.deepEqual(decoded, records);
  assert.deepEqual(decoded.map((r) => r.key.length).sort(), [10, 10, 10, 10, 22, 22, 22, 22]);
});

Deno.test("numbers that need several varint bytes round-trip", () => {
  const writer = new StreamWriter("snapshot");
  // 200 attribute sets, so indexes from 128 take two bytes.
  const attrs = Array.from({ length: 200 }, (_, i) => writer.attribute({ ...MALWARE, ttl: i }));
  const dates = [0, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 2, 32503680000];
  const records = dates.map((date, i): FeedRecord => ({
    op: OP_ADD,
    key: textKey("domain", `d${String(i).padStart(3, "0")}.example`),
    attr: attrs[199 - i],
    firstSeen: date,
    lastSeen: dates[dates.length - 1 - i],
    replaces: null,
  })).sort((a, b) => compareKeys(a.key, b.key));
  for (const r of records) writer.add(r);
  const header = {
    version: 2 ** 40,
    fromVersion: 0,
    baseChecksum: EMPTY_CHECKSUM,
    checksum: EMPTY_CHECKSUM,
  };
  const decoded = readAll(concat(writer.finish(header)));
  assert.equal(decoded.header.version, 2 ** 40);
  assert.equal(decoded.attributes.length, 200);
  assert.deepEqual(decoded.records, records);
});

Deno.test("the attribute table holds each distinct set once, in first-use order", () => {
  const writer = new StreamWriter("snapshot");
  assert.equal(writer.attribute(PHISHING), 0);
  assert.equal(writer.attribute(MALWARE), 1);
  assert.equal(writer.attribute({ ...PHISHING }), 0);
  assert.equal(writer.attribute({ ...PHISHING, ttl: 1 }), 2);
  const decoded = readAll(
    concat(
      writer.finish({
        version: 1,
        fromVersion: 0,
        baseChecksum: EMPTY_CHECKSUM,
        checksum: EMPTY_CHECKSUM,
      }),
    ),
  );
  assert.deepEqual(decoded.attributes, [PHISHING, MALWARE, { ...PHISHING, ttl: 1 }]);
});

Deno.test("the reader hashes each attribute set from its canonical text", () => {
  const reader = new StreamReader(
    bufferSource(
      raw({ records: 0, attributes: [attributeText(ADWARE), '[3, null, null, null, "demo"]'] }),
    ),
    "t",
  );
  assert.deepEqual(reader.attributes[0].hash, attributeHash(attributeText(ADWARE)));
  // Spacing in the table does not change the hash: it is taken over the canonical text.
  assert.deepEqual(reader.attributes[1].hash, attributeHash(attributeText(PHISHING)));
});

Deno.test("attributeText is the JSON array [verdict, threat, categories, ttl, source]", () => {
  assert.equal(
    attributeText(MALWARE),
    '[2,"Demo.Malware.Host","[\\"demo\\",\\"malware-host\\"]",3600,"demo"]',
  );
  assert.equal(attributeText(PHISHING), '[3,null,null,null,"demo"]');
});

Deno.test("the documented byte layout is what the writer writes", () => {
  const key0 = KEYS[0];
  const key1 = KEYS[1]; // key0 followed by four more bytes
  const writer = new StreamWriter("delta");
  const mal = writer.attribute(MALWARE);
  writer.add({ op: OP_ADD, key: key0, attr: mal, firstSeen: D1, lastSeen: null, replaces: null });
  writer.add({
    op: OP_REMOVE,
    key: key1,
    attr: 0,
    firstSeen: D1,
    lastSeen: D2,
    replaces: [0x01020304, 0xa0b0c0d0],
  });
  const bytes = concat(
    writer.finish({
      version: 300,
      fromVersion: 299,
      baseChecksum: "00112233445566ff",
      checksum: "8899aabbccddeeff",
    }),
  );
  const expected = raw({
    kind: 2,
    version: 300,
    fromVersion: 299,
    baseChecksum: "00112233445566ff",
    checksum: "8899aabbccddeeff",
    records: 2,
    attributes: [attributeText(MALWARE)],
  }, [
    { flags: 0 | 4, shared: 0, suffix: key0, attr: 0, firstSeen: D1 },
    { flags: 2, shared: 17, suffix: key1.subarray(17), replaces: [0x01020304, 0xa0b0c0d0] },
  ]);
  assert.deepEqual(bytes, expected);
  // Spot checks against the specification's fixed offsets.
  assert.deepEqual(
    bytes.subarray(0, 10),
    Uint8Array.of(0x50, 0x4b, 0x53, 0x4e, 0x46, 0x45, 0x45, 0x44, 1, 2),
  );
  assert.deepEqual(bytes.subarray(10, 14), Uint8Array.of(0xac, 0x02, 0xab, 0x02)); // 300, 299
  assert.deepEqual(
    bytes.subarray(bytes.length - 8),
    Uint8Array.of(1, 2, 3, 4, 0xa0, 0xb0, 0xc0, 0xd0),
  );
});

/** The hex of the two example streams in docs/feed-format.md, spaces and newlines removed. */
async function documentedExamples(): Promise<Uint8Array[]> {
  const doc = await Deno.readTextFile(new URL("../../docs/feed-format.md", import.meta.url));
  const section = doc.slice(doc.indexOf("### Example streams"));
  const blocks = [...section.matchAll(/```\n([0-9a-f \n]+)```/g)].slice(0, 2);
  assert.equal(blocks.length, 2);
  return blocks.map((b) => Uint8Array.from(hexBytes(b[1].replace(/\s+/g, ""))));
}

Deno.test("the example streams in docs/feed-format.md are what the writer writes", async () => {
  const [snapshotHex, deltaHex] = await documentedExamples();
  const eicar = digestKeyFromHex("file", MD5);
  const domain = textKey("domain", "evil.example");
  const suspicious = { verdict: 5, threat: null, categories: null, ttl: 60, source: "demo" };
  const snapshot = snapshotOf([
    { key: eicar, attrs: EICAR_ATTRS, firstSeen: D1, lastSeen: null },
    { key: domain, attrs: PHISHING, firstSeen: null, lastSeen: null },
  ], 1);
  assert.deepEqual(snapshot.bytes, snapshotHex);
  const after = stored(eicar, attributeText(suspicious), D1, D2);
  const { bytes } = writeStream("delta", [
    {
      op: OP_UPDATE,
      key: eicar,
      attrs: suspicious,
      firstSeen: D1,
      lastSeen: D2,
      replaces: snapshot.state.get(hexOf(eicar))!.hash,
    },
    { op: OP_REMOVE, key: domain, replaces: snapshot.state.get(hexOf(domain))!.hash },
  ], {
    version: 2,
    fromVersion: 1,
    baseChecksum: checksumOf(snapshot.state),
    checksum: checksumOf(new Map([[hexOf(eicar), after]])),
  });
  assert.deepEqual(bytes, deltaHex);
  // And they apply: the checksums in them are right.
  const state = applyChecked(snapshotHex, new Map(), {
    kind: "snapshot",
    version: 1,
    fromVersion: 0,
  });
  const final = applyChecked(deltaHex, state, { kind: "delta", version: 2, fromVersion: 1 });
  assert.deepEqual([...final.values()], [after]);
});

Deno.test("a large stream reads back through the reader's refills, whatever the source's chunk size", async () => {
  const writer = new StreamWriter("snapshot");
  const attr = writer.attribute(MALWARE);
  const count = 40_000;
  for (let i = 0; i < count; i++) {
    const key = new Uint8Array(33);
    key[0] = 1;
    new DataView(key.buffer).setUint32(1, i * 97);
    for (let j = 5; j < 33; j++) key[j] = (i * 7 + j) & 0xff;
    writer.add({
      op: OP_ADD,
      key,
      attr,
      firstSeen: i % 3 ? D1 + i : null,
      lastSeen: null,
      replaces: null,
    });
  }
  const chunks = writer.finish({
    version: 1,
    fromVersion: 0,
    baseChecksum: EMPTY_CHECKSUM,
    checksum: EMPTY_CHECKSUM,
  });
  assert.ok(chunks.length >= 3, `${chunks.length} chunks`); // the body spans more than one block
  const bytes = concat(chunks);
  assert.ok(bytes.length > 1 << 20);
  const whole = readAll(bytes);
  assert.equal(whole.records.length, count);
  for (const size of [1, 7, 4096]) {
    let at = 0;
    const slow: ByteSource = (into) => {
      const n = Math.min(size, into.length, bytes.length - at);
      into.set(bytes.subarray(at, at + n));
      at += n;
      return n;
    };
    const decoded = readAll(slow);
    assert.equal(decoded.records.length, count, `chunk ${size}`);
    assert.deepEqual(decoded.records[count - 1], whole.records[count - 1]);
  }
  await using dir = await tempDir();
  const path = join(dir.path, "snapshot.bin");
  await Deno.writeFile(path, bytes);
  using file = await Deno.open(path);
  const fromFile = readAll(fileSource(file));
  assert.deepEqual(fromFile.records, whole.records);
});

// ---------------------------------------------------------------------------------------------
// What the writer refuses

Deno.test("the writer refuses a key that does not sort after the previous one", () => {
  const writer = new StreamWriter("snapshot");
  writer.add({
    op: OP_ADD,
    key: KEYS[3],
    attr: writer.attribute(MALWARE),
    firstSeen: null,
    lastSeen: null,
    replaces: null,
  });
  for (const key of [KEYS[3], KEYS[2], KEYS[0]]) {
    assert.throws(
      () =>
        writer.add({ op: OP_ADD, key, attr: 0, firstSeen: null, lastSeen: null, replaces: null }),
      /^Error: Records must be written in ascending key order$/,
    );
  }
  assert.equal(writer.records, 1);
});

Deno.test("the writer refuses updates and removes in a snapshot", () => {
  const writer = new StreamWriter("snapshot");
  for (const op of [OP_UPDATE, OP_REMOVE] as const) {
    assert.throws(
      () =>
        writer.add({
          op,
          key: KEYS[0],
          attr: 0,
          firstSeen: null,
          lastSeen: null,
          replaces: [0, 0],
        }),
      /^Error: A snapshot holds only additions$/,
    );
  }
  assert.equal(writer.records, 0);
});

/** A valid attribute text of exactly `bytes` UTF-8 bytes, padded in its categories with `pad`. */
function attributeOfBytes(bytes: number, pad = "x"): Attributes {
  const base = { verdict: 2, threat: null, categories: '[""]', ttl: null, source: "demo" };
  const room = bytes - encoder.encode(attributeText(base)).length;
  const unit = encoder.encode(pad).length;
  const fill = pad.repeat(Math.floor(room / unit)) + "x".repeat(room % unit);
  const attrs = { ...base, categories: `["${fill}"]` };
  assert.equal(encoder.encode(attributeText(attrs)).length, bytes);
  return attrs;
}

Deno.test("the writer refuses an attribute set longer than MAX_ATTRIBUTE_BYTES", () => {
  assert.equal(MAX_ATTRIBUTE_BYTES, 32768);
  const writer = new StreamWriter("snapshot");
  // Bytes count, not characters: this text has fewer than 32768 characters.
  for (
    const attrs of [
      attributeOfBytes(MAX_ATTRIBUTE_BYTES + 1),
      attributeOfBytes(MAX_ATTRIBUTE_BYTES + 2, "é"),
    ]
  ) {
    assert.throws(
      () => writer.attribute(attrs),
      (err: unknown) => {
        assert.ok(err instanceof SyncError, `expected a SyncError, got ${err}`);
        assert.equal(err.code, "invalid_source");
        assert.match(err.message, /^An attribute set is longer than 32768 bytes: \[2,null,/);
        return true;
      },
    );
  }
  // A refused set takes no place in the table, and one at the limit is written and read back.
  assert.equal(writer.attribute(PHISHING), 0);
  const edge = attributeOfBytes(MAX_ATTRIBUTE_BYTES, "é");
  assert.equal(writer.attribute(edge), 1);
  const decoded = readAll(
    concat(
      writer.finish({
        version: 1,
        fromVersion: 0,
        baseChecksum: EMPTY_CHECKSUM,
        checksum: EMPTY_CHECKSUM,
      }),
    ),
  );
  assert.deepEqual(decoded.attributes, [PHISHING, edge]);
});

// ---------------------------------------------------------------------------------------------
// What the reader refuses

Deno.test("the reader refuses a file without the PKSNFEED magic", () => {
  const { bytes } = snapshotOf(BASE_ROWS, 1);
  const bad = bytes.slice();
  bad[0] = "Q".charCodeAt(0);
  throwsFeed(
    () => readAll(bad, "snapshots/1.x.bin"),
    /^snapshots\/1\.x\.bin: not a pksn feed file$/,
  );
  throwsFeed(
    () => readAll(encoder.encode("<html><body>Not found</body></html>")),
    /not a pksn feed file/,
  );
});

Deno.test("the reader refuses another format version", () => {
  throwsFeed(
    () => readAll(raw({ format: 2, records: 0 })),
    /^test\.bin: format version 2; this pksn reads 1$/,
  );
  throwsFeed(() => readAll(raw({ format: 0, records: 0 })), /format version 0/);
});

Deno.test("the reader refuses an unknown stream kind", () => {
  throwsFeed(() => readAll(raw({ kind: 3, records: 0 })), /^test\.bin: unknown stream kind 3$/);
  throwsFeed(() => readAll(raw({ kind: 0, records: 0 })), /unknown stream kind 0/);
});

Deno.test("every truncation of a snapshot fails as truncated", () => {
  const { bytes } = snapshotOf(BASE_ROWS, 1);
  readAll(bytes);
  for (let cut = 0; cut < bytes.length; cut++) {
    throwsFeed(() => readAll(bytes.subarray(0, cut)), /^test\.bin: .*\(truncated\)$/);
  }
});

Deno.test("every truncation of a delta fails as truncated", () => {
  const { bytes } = deltaFrom(BASE_ROWS, [D1, D2]);
  readAll(bytes);
  for (let cut = 0; cut < bytes.length; cut++) {
    throwsFeed(() => readAll(bytes.subarray(0, cut)), /\(truncated\)$/);
  }
});

Deno.test("the reader refuses bytes after the last record", () => {
  const { bytes } = snapshotOf(BASE_ROWS, 1);
  for (const extra of [[0], [0, 0, 0, 0], [...bytes.subarray(bytes.length - 5)]]) {
    throwsFeed(
      () => readAll(Uint8Array.from([...bytes, ...extra])),
      /^test\.bin: bytes after the last record$/,
    );
  }
  throwsFeed(
    () => readAll(Uint8Array.from([...raw({ records: 0 }), 0])),
    /bytes after the last record/,
  );
});

Deno.test("the reader refuses a record whose attribute index is past the table", () => {
  const stream = raw(
    { records: 2, attributes: [attributeText(MALWARE), attributeText(PHISHING)] },
    [
      { suffix: KEYS[0], attr: 1 },
      { shared: 1, suffix: KEYS[1].subarray(1), attr: 2 },
    ],
  );
  throwsFeed(() => readAll(stream), /^test\.bin: record 2 points at attribute 2, past the table$/);
  throwsFeed(
    () => readAll(raw({ records: 1, attributes: [] }, [{ suffix: KEYS[0], attr: 0 }])),
    /record 1 points at attribute 0, past the table/,
  );
});

Deno.test("the reader refuses keys that cannot be look-up keys", () => {
  const urlKey = textKey("url", "evil.example/");
  const badHash = urlKey.slice();
  badHash[4] ^= 1;
  const badPayload = urlKey.slice();
  badPayload[8] ^= 1;
  const v4 = network("10.0.0.0/8");
  const v4Prefix = v4.slice();
  v4Prefix[9] = 33;
  const cases: [Uint8Array, RegExp][] = [
    [digestKeyFromHex("file", MD5).subarray(0, 16), /file key of a wrong length/],
    [Uint8Array.from([...digestKeyFromHex("file", MD5), 0]), /file key of a wrong length/],
    [digestKeyFromHex("cert", MD5), /certificate key of a wrong length/],
    [badHash, /key hash does not match its payload/],
    [badPayload, /key hash does not match its payload/],
    [ipKey(Uint8Array.of(10, 0, 0), 8), /malformed IP key/],
    [ipKey(maskTo(parseNetwork("::").bytes, 0).subarray(0, 15), 0), /malformed IP key/],
    [ipKey(Uint8Array.of(10, 0, 0, 0), 33), /malformed IP key/],
    [ipKey(new Uint8Array(16), 129), /malformed IP key/],
    [v4Prefix, /key hash does not match its payload/],
    [Uint8Array.of(0, 1, 2, 3, 4, 5), /unknown type byte 0/],
    [Uint8Array.of(6, 1, 2, 3, 4, 5), /unknown type byte 6/],
    [Uint8Array.of(3, 0x81, 0x1c, 0x9d, 0xc5), /key too short/],
    [ipKey(Uint8Array.of(10, 0, 0, 1), 8), /IP key has bits set past its prefix/],
    [ipKey(Uint8Array.of(192, 0, 2, 128), 24), /IP key has bits set past its prefix/],
    [ipKey(parseNetwork("2001:db8::1").bytes, 32), /IP key has bits set past its prefix/],
    [ipKey(parseNetwork("::1").bytes, 0), /IP key has bits set past its prefix/],
  ];
  for (const [key, message] of cases) {
    assert.match(keyProblem(key) ?? "null", message, `key ${hexOf(key)}`);
    const stream = raw({ records: 1 }, [{ suffix: key }]);
    throwsFeed(() => readAll(stream), new RegExp(`^test\\.bin: record 1: ${message.source}$`));
  }
});

Deno.test("keyProblem accepts every kind of look-up key", () => {
  for (const key of KEYS) assert.equal(keyProblem(key), null, hexOf(key));
});

Deno.test("the reader refuses keys out of order or repeated", () => {
  const [a, b] = [KEYS[5], KEYS[6]];
  throwsFeed(
    () => readAll(raw({ records: 2 }, [{ suffix: b }, { suffix: a }])),
    /^test\.bin: record 2 is out of key order$/,
  );
  throwsFeed(
    () =>
      readAll(
        raw({ records: 2 }, [{ suffix: a }, { shared: a.length, suffix: new Uint8Array(0) }]),
      ),
    /record 2 is out of key order/,
  );
  // A key that is a proper prefix of the previous key sorts before it.
  const long = KEYS[1];
  throwsFeed(
    () =>
      readAll(raw({ records: 2 }, [{ suffix: long }, { shared: 17, suffix: new Uint8Array(0) }])),
    /record 2 is out of key order/,
  );
});

Deno.test("the reader refuses a front-coded length that does not fit", () => {
  const key = KEYS[0];
  throwsFeed(
    () => readAll(raw({ records: 1 }, [{ shared: 1, suffix: key }])),
    /^test\.bin: record 1 has a bad key length$/,
  );
  throwsFeed(
    () =>
      readAll(
        raw({ records: 2 }, [{ suffix: key }, { shared: 18, suffix: Uint8Array.of(1, 2, 3, 4) }]),
      ),
    /record 2 has a bad key length/,
  );
  throwsFeed(
    () => readAll(raw({ records: 1 }, [{ suffix: new Uint8Array(0) }])),
    /record 1 has a bad key length/,
  );
  // Keys may be up to MAX_KEY_BYTES long, counting the shared bytes.
  assert.equal(MAX_KEY_BYTES, 131072);
  const longest = textKey("url", "a.example/" + "x".repeat(MAX_KEY_BYTES - 5 - 10));
  assert.equal(longest.length, MAX_KEY_BYTES);
  assert.equal(keyProblem(longest), null);
  assert.equal(
    keyProblem(textKey("url", "a.example/" + "x".repeat(MAX_KEY_BYTES))),
    "key too long",
  );
  assert.deepEqual(readAll(raw({ records: 1 }, [{ suffix: longest }])).records[0].key, longest);
  throwsFeed(
    () => readAll(raw({ records: 1 }, [{ suffix: new Uint8Array(MAX_KEY_BYTES + 1) }])),
    /^test\.bin: record 1 has a bad key length$/,
  );
  throwsFeed(
    () =>
      readAll(
        raw({ records: 2 }, [{ suffix: longest }, {
          shared: MAX_KEY_BYTES,
          suffix: Uint8Array.of(0x78),
        }]),
      ),
    /^test\.bin: record 2 has a bad key length$/,
  );
});

Deno.test("the reader refuses bad record flags", () => {
  throwsFeed(
    () => readAll(raw({ kind: 2, records: 1 }, [{ flags: 3, suffix: KEYS[0] }])),
    /^test\.bin: record 1 has bad flags$/,
  );
  throwsFeed(
    () => readAll(raw({ kind: 2, records: 1 }, [{ flags: 16, suffix: KEYS[0] }])),
    /record 1 has bad flags/,
  );
  throwsFeed(
    () => readAll(raw({ kind: 2, records: 1 }, [{ flags: 0x80, suffix: KEYS[0] }])),
    /record 1 has bad flags/,
  );
});

Deno.test("the reader refuses updates and removes in a snapshot", () => {
  for (const flags of [OP_UPDATE, OP_REMOVE]) {
    const stream = raw({ kind: 1, records: 1 }, [{ flags, suffix: KEYS[0], replaces: [1, 2] }]);
    throwsFeed(() => readAll(stream), /^test\.bin: record 1: a snapshot holds only additions$/);
  }
});

Deno.test("the reader refuses a number longer than eight bytes", () => {
  const stream = Uint8Array.from([
    ...rawHeader({ records: 0 }).slice(0, 10),
    ...new Array(9).fill(0x80),
    0,
  ]);
  throwsFeed(() => readAll(stream), /^test\.bin: a number is too long$/);
});

Deno.test("the reader refuses an attribute table that is too big", () => {
  const head = rawHeader({ records: 0, attributes: [] });
  // Replace the zero attribute count at the end of the header with 2^20 + 1.
  const tooMany = Uint8Array.from([...head.slice(0, -1), ...varint(2 ** 20 + 1)]);
  throwsFeed(() => readAll(tooMany), /^test\.bin: 1048577 attribute sets is too many$/);
  for (const pad of ["x", "é"]) {
    const long = attributeText(attributeOfBytes(MAX_ATTRIBUTE_BYTES + 2, pad));
    throwsFeed(
      () => readAll(raw({ records: 0, attributes: [long] })),
      /^test\.bin: attribute 0 is too long$/,
    );
    const edge = attributeOfBytes(MAX_ATTRIBUTE_BYTES, pad);
    const decoded = readAll(raw({ records: 0, attributes: [attributeText(edge)] }));
    assert.deepEqual(decoded.attributes, [edge]);
  }
  throwsFeed(
    () => readAll(raw({ records: 0, attributes: [Uint8Array.of(0x5b, 0xff, 0x5d)] })),
    /^test\.bin: attribute 0 is not UTF-8$/,
  );
});

Deno.test("the reader refuses attribute sets that break the record rules", () => {
  const cases: [string, RegExp][] = [
    ["[2,null,null,null", /not JSON/],
    ['{"verdict":2}', /expected a 5-element array/],
    ['[2,null,null,null,"demo",1]', /expected a 5-element array/],
    ['[0,null,null,null,"demo"]', /verdict not 1\.\.5/],
    ['[6,null,null,null,"demo"]', /verdict not 1\.\.5/],
    ['[2.5,null,null,null,"demo"]', /verdict not 1\.\.5/],
    ['["2",null,null,null,"demo"]', /verdict not 1\.\.5/],
    ['[2,"",null,null,"demo"]', /threat must be null or a string of 1\.\.256 characters/],
    [`[2,"${"t".repeat(257)}",null,null,"demo"]`, /threat must be/],
    ['[2,5,null,null,"demo"]', /threat must be/],
    [
      '[2,null,"demo",null,"demo"]',
      /categories must be null or the JSON text of a list of strings/,
    ],
    ['[2,null,["demo"],null,"demo"]', /categories must be/],
    ['[2,null,"[1]",null,"demo"]', /categories must be/],
    ['[2,null,null,-1,"demo"]', /ttl must be null or 0\.\.2592000/],
    ['[2,null,null,2592001,"demo"]', /ttl must be/],
    ['[2,null,null,1.5,"demo"]', /ttl must be/],
    ['[2,null,null,null,""]', /source must be a string of 1\.\.64 characters/],
    [`[2,null,null,null,"${"s".repeat(65)}"]`, /source must be/],
    ["[2,null,null,null,null]", /source must be/],
  ];
  for (const [text, message] of cases) {
    const second = raw({ records: 0, attributes: [attributeText(PHISHING), text] });
    throwsFeed(
      () => readAll(second),
      new RegExp(`^test\\.bin: attribute 1 is invalid: ${message.source}`),
    );
  }
  // The limits themselves are allowed.
  const edge = `[5,"${"t".repeat(256)}","[]",2592000,"${"s".repeat(64)}"]`;
  assert.equal(readAll(raw({ records: 0, attributes: [edge] })).attributes[0].ttl, 2592000);
});

Deno.test("attribute errors name the file like the reader's other errors", () => {
  const stream = raw({ records: 0, attributes: ['[9,null,null,null,"demo"]'] });
  throwsFeed(
    () => readAll(stream, "snapshots/9.x.bin"),
    /^snapshots\/9\.x\.bin: attribute 0 is invalid: verdict not 1\.\.5$/,
  );
});

// ---------------------------------------------------------------------------------------------
// Damage: the reader or the client's checks notice it, or the result is the same

Deno.test("the reference apply accepts the undamaged snapshot and delta", () => {
  const base = snapshotOf(BASE_ROWS, 7);
  assert.deepEqual(
    applyChecked(base.bytes, new Map(), { kind: "snapshot", version: 7, fromVersion: 0 }),
    base.state,
  );
  const delta = deltaFrom(BASE_ROWS, [D1, D2]);
  assert.deepEqual(
    applyChecked(delta.bytes, base.state, { kind: "delta", version: 8, fromVersion: 7 }),
    delta.after,
  );
});

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  for (let i = from; i + needle.length <= haystack.length; i++) {
    if (needle.every((b, j) => haystack[i + j] === b)) return i;
  }
  return -1;
}

Deno.test("specific flipped bytes are refused by the reader itself", () => {
  const { bytes } = snapshotOf(BASE_ROWS, 7);
  const decoded = readAll(bytes);
  // Header: magic 0..7, format 8, kind 9, version 10, from 11, checksums 12..27, record
  // count 28, attribute count 29, then the first attribute's length (30) and text (31..).
  assert.equal(bytes[31], "[".charCodeAt(0));
  const firstRecord = rawHeader({
    version: 7,
    records: BASE_ROWS.length,
    attributes: decoded.attributes.map(attributeText),
  }).length;
  const cases: [number, number, RegExp][] = [
    [3, 0x20, /: not a pksn feed file$/],
    [8, 0x02, /: format version 3; this pksn reads 1$/],
    [9, 0x01, /: unknown stream kind 0$/],
    [31, 0x01, /^test\.bin: attribute 0 is invalid: not JSON$/],
    [firstRecord, 0x03, /: record 1 has bad flags$/],
    [firstRecord, 0x40, /: record 1 has bad flags$/],
  ];
  for (const [at, mask, message] of cases) {
    const bad = bytes.slice();
    bad[at] ^= mask;
    throwsFeed(() => readAll(bad), message);
  }
  // Any change to a URL key's hash or text breaks their match.
  const url = decoded.records.find((r) => r.key[0] === 2)!;
  const text = indexOfBytes(bytes, url.key.subarray(5), firstRecord);
  assert.ok(text > firstRecord);
  for (const at of [text - 4, text - 1, text, text + 5, text + url.key.length - 6]) {
    for (const mask of [0x01, 0x10, 0x80]) {
      const bad = bytes.slice();
      bad[at] ^= mask;
      throwsFeed(
        () => readAll(bad),
        /: record \d: (key hash does not match its payload|.*out of key order)$/,
      );
    }
  }
});

Deno.test("a wrong record count in the header is refused", () => {
  const { bytes } = snapshotOf(BASE_ROWS, 7);
  const countAt = 8 + 2 + 1 + 1 + 16; // magic, format, kind, version 7, from 0, two checksums
  assert.equal(bytes[countAt], BASE_ROWS.length);
  const more = bytes.slice();
  more[countAt] += 1;
  throwsFeed(() => readAll(more), /\(truncated\)$/);
  const fewer = bytes.slice();
  fewer[countAt] -= 1;
  throwsFeed(() => readAll(fewer), /bytes after the last record/);
});

/** Checks every flip of every byte with each mask: refused, noticed or harmless. */
function checkFlips(
  bytes: Uint8Array,
  base: State,
  expect: { kind: StreamKind; version: number; fromVersion: number },
  masks: number[],
): void {
  const good = applyChecked(bytes, base, expect);
  const silent: string[] = [];
  for (let at = 0; at < bytes.length; at++) {
    for (const mask of masks) {
      const bad = bytes.slice();
      bad[at] ^= mask;
      let result: State;
      try {
        result = applyChecked(bad, base, expect);
      } catch (err) {
        if (err instanceof Noticed) continue;
        assert.ok(
          err instanceof SyncError && err.code === "invalid_feed",
          `offset ${at} mask ${mask}: ${err}`,
        );
        continue;
      }
      // Accepted: only harmless if the state is exactly what the good stream gives.
      try {
        assert.deepEqual(result, good);
      } catch {
        silent.push(`offset ${at} mask 0x${mask.toString(16)}`);
      }
    }
  }
  assert.deepEqual(silent, [], "damage that went unnoticed");
}

const BIT_MASKS = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80];

Deno.test("inverting any one byte of a snapshot or delta is refused or noticed", () => {
  const base = snapshotOf(BASE_ROWS, 7);
  checkFlips(base.bytes, new Map(), { kind: "snapshot", version: 7, fromVersion: 0 }, [0xff]);
  const { bytes } = deltaFrom(BASE_ROWS, [D1, D2]);
  checkFlips(bytes, base.state, { kind: "delta", version: 8, fromVersion: 7 }, [0xff]);
});

Deno.test("every single-bit flip of a snapshot or delta with small dates is refused or noticed", () => {
  // Dates below 2^28 take at most four varint bytes (the next test has five-byte dates).
  const small = (d: number | null | undefined): number | null =>
    d === null || d === undefined ? null : d % 2 ** 28;
  const rows = BASE_ROWS.map((r) => ({
    ...r,
    firstSeen: small(r.firstSeen),
    lastSeen: small(r.lastSeen),
  }));
  const base = snapshotOf(rows, 7);
  checkFlips(base.bytes, new Map(), { kind: "snapshot", version: 7, fromVersion: 0 }, BIT_MASKS);
  const { bytes } = deltaFrom(rows, [D1 % 2 ** 28, D2 % 2 ** 28]);
  checkFlips(bytes, base.state, { kind: "delta", version: 8, fromVersion: 7 }, BIT_MASKS);
});

Deno.test("every single-bit flip of a snapshot or delta with 2025 dates is refused or noticed", () => {
  // A date of 2^28 or more takes five varint bytes; flipping bit 4, 5 or 6 of the fifth byte
  // moves it by 2^32, 2^33 or 2^34 seconds, which the row hash's high date word notices.
  const base = snapshotOf(BASE_ROWS, 7);
  checkFlips(base.bytes, new Map(), { kind: "snapshot", version: 7, fromVersion: 0 }, BIT_MASKS);
  const { bytes } = deltaFrom(BASE_ROWS, [D1, D2]);
  checkFlips(bytes, base.state, { kind: "delta", version: 8, fromVersion: 7 }, BIT_MASKS);
});

Deno.test("a date moved by a multiple of 2^32 seconds changes the state checksum", () => {
  const row = { key: KEYS[0], attrs: MALWARE, firstSeen: D1, lastSeen: D2 };
  const good = snapshotOf([row], 7);
  for (const moved of [{ ...row, firstSeen: D1 + 2 ** 32 }, { ...row, lastSeen: D2 + 2 ** 34 }]) {
    // A stream that carries the moved date but the original checksum.
    const { bytes } = writeStream("snapshot", [moved], {
      version: 7,
      fromVersion: 0,
      baseChecksum: EMPTY_CHECKSUM,
      checksum: checksumOf(good.state),
    });
    assert.throws(
      () => applyChecked(bytes, new Map(), { kind: "snapshot", version: 7, fromVersion: 0 }),
      Noticed,
    );
  }
});

Deno.test("a delta applied to the wrong base is noticed", () => {
  const base = snapshotOf(BASE_ROWS, 7);
  const { bytes } = deltaFrom(BASE_ROWS, [D1, D2]);
  const other = new Map(base.state);
  other.set(hexOf(BASE_ROWS[0].key), storedOf({ ...BASE_ROWS[0], lastSeen: D2 }));
  assert.throws(
    () => applyChecked(bytes, other, { kind: "delta", version: 8, fromVersion: 7 }),
    Noticed,
  );
});

// ---------------------------------------------------------------------------------------------
// Limits the importer, the writer and the reader must agree on

/** Writes one row as a snapshot and reads it back. */
function roundTrip(row: Attributes & { key: Uint8Array }): FeedRecord[] {
  const writer = new StreamWriter("snapshot");
  const attr = writer.attribute(row);
  writer.add({ op: OP_ADD, key: row.key, attr, firstSeen: null, lastSeen: null, replaces: null });
  const bytes = concat(
    writer.finish({
      version: 1,
      fromVersion: 0,
      baseChecksum: EMPTY_CHECKSUM,
      checksum: EMPTY_CHECKSUM,
    }),
  );
  return readAll(bytes).records;
}

Deno.test("a record the importer accepts can be written and read back", () => {
  // 32 categories of 64 non-ASCII characters: about 5 kB of attribute text, more than the
  // 4096 bytes readers used to allow.
  const record = recordSchema.parse({
    type: "domain",
    value: "evil.example",
    verdict: "malicious",
    threat: "Ä".repeat(256),
    categories: Array.from({ length: 32 }, (_, i) => `${i}`.padEnd(64, "é")),
    source: "€".repeat(64),
  });
  const [row] = recordRows(record, ORIGIN_MIRROR, "demo");
  assert.ok(encoder.encode(attributeText(row)).length > 4096);
  const records = roundTrip(row);
  assert.equal(records.length, 1);
  assert.deepEqual(records[0].key, row.key);
});

Deno.test({
  name: "an attribute set at every limit of the record schema can be written and read back",
  fn: () => {
    // The printable character with the longest encoding per UTF-16 unit: 3 bytes.
    // (Control characters, longer still in JSON, are no longer accepted.)
    const c = "\u20ac";
    const record = recordSchema.parse({
      type: "domain",
      value: "evil.example",
      verdict: "malicious",
      threat: c.repeat(256),
      categories: Array.from({ length: 32 }, () => c.repeat(64)),
      ttl: 2_592_000,
      source: c.repeat(64),
    });
    const [row] = recordRows(record, ORIGIN_MIRROR, "demo");
    assert.equal(roundTrip(row).length, 1);
  },
});

Deno.test("a long non-ASCII URL the importer accepts is a key the reader accepts", () => {
  // Percent-escaping turns each "é" into "%C3%A9": a 24015-byte key.
  const record = recordSchema.parse({
    type: "url",
    value: "http://a.example/" + "é".repeat(4000),
    verdict: "malicious",
  });
  const [row] = recordRows(record, ORIGIN_MIRROR, "demo");
  assert.equal(row.key.length, 24015);
  assert.equal(keyProblem(row.key), null);
  assert.deepEqual(roundTrip(row)[0].key, row.key);
});

Deno.test({
  name: "every URL key the importer makes is a key the reader accepts",
  fn: () => {
    const record = recordSchema.parse({
      type: "url",
      value: "a/" + "€".repeat(8190),
      verdict: "malicious",
    });
    const [row] = recordRows(record, ORIGIN_MIRROR, "demo");
    assert.equal(keyProblem(row.key), null);
  },
});

Deno.test("keyProblem refuses an IP key with address bits set past its prefix", () => {
  // Look-ups and imports always mask, so such a row could never be found.
  assert.equal(
    keyProblem(ipKey(Uint8Array.of(10, 0, 0, 1), 8)),
    "IP key has bits set past its prefix",
  );
  assert.equal(
    keyProblem(ipKey(parseNetwork("2001:db8::1").bytes, 32)),
    "IP key has bits set past its prefix",
  );
  // The last bit inside the prefix may be set; the first bit past it may not.
  for (const prefix of [1, 7, 8, 9, 23, 24, 31]) {
    const inside = new Uint8Array(4);
    inside[(prefix - 1) >> 3] = 0x80 >> ((prefix - 1) & 7);
    assert.equal(keyProblem(ipKey(inside, prefix)), null, `v4 /${prefix} inside`);
    const past = new Uint8Array(4);
    past[prefix >> 3] = 0x80 >> (prefix & 7);
    assert.notEqual(keyProblem(ipKey(past, prefix)), null, `v4 /${prefix} past`);
  }
  for (const prefix of [1, 64, 65, 120, 127]) {
    const past = new Uint8Array(16);
    past[prefix >> 3] = 0x80 >> (prefix & 7);
    assert.notEqual(keyProblem(ipKey(past, prefix)), null, `v6 /${prefix} past`);
  }
  // Full-length prefixes have no bits past them; masked networks are fine.
  assert.equal(keyProblem(ipKey(Uint8Array.of(255, 255, 255, 255), 32)), null);
  assert.equal(keyProblem(ipKey(new Uint8Array(16).fill(0xff), 128)), null);
  for (const text of ["10.0.0.0/8", "192.0.2.128/25", "2001:db8::/32", "fe80::/10"]) {
    assert.equal(keyProblem(network(text)), null, text);
  }
  // And the reader refuses the stream.
  throwsFeed(
    () => readAll(raw({ records: 1 }, [{ suffix: ipKey(Uint8Array.of(10, 0, 0, 1), 8) }])),
    /^test\.bin: record 1: IP key has bits set past its prefix$/,
  );
});

Deno.test("the reader refuses a number above 2^53 - 1", () => {
  const head = rawHeader({ records: 0 });
  // Byte 10 is the one-byte version 1; put other encodings in its place.
  const withVersion = (bytes: number[]): Uint8Array =>
    Uint8Array.from([...head.slice(0, 10), ...bytes, ...head.slice(11)]);
  const big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]; // 2^56 - 1
  for (const bytes of [big, varint(2 ** 53), varint(2 ** 53 + 2), varint(2 ** 55)]) {
    throwsFeed(() => readAll(withVersion(bytes)), /^test\.bin: a number is larger than 2\^53 - 1$/);
  }
  // 2^53 - 1 itself is read exactly.
  const max = varint(Number.MAX_SAFE_INTEGER);
  assert.deepEqual(max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.equal(readAll(withVersion(max)).header.version, Number.MAX_SAFE_INTEGER);
  // A date above it is refused the same way.
  const date = raw({ records: 1 }, [{ flags: 4, suffix: KEYS[0], firstSeen: 2 ** 53 }]);
  throwsFeed(() => readAll(date), /^test\.bin: a number is larger than 2\^53 - 1$/);
  const maxDate = raw({ records: 1 }, [{
    flags: 4,
    suffix: KEYS[0],
    firstSeen: Number.MAX_SAFE_INTEGER,
  }]);
  assert.equal(readAll(maxDate).records[0].firstSeen, Number.MAX_SAFE_INTEGER);
});
