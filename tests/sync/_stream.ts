/**
 * Helpers for the record stream tests: keys and attribute sets of every kind, a writer and
 * reader round trip, a reference apply that makes a client's checks, and a second encoder
 * written from docs/feed-format.md for crafting streams the writer would never write.
 */
import assert from "node:assert/strict";
import { digestKeyFromHex, ipKey, textKey } from "../../src/reputation/keys.ts";
import { maskTo, parseNetwork } from "../../src/reputation/ip.ts";
import {
  attributeHash,
  EMPTY_CHECKSUM,
  type Hash64,
  rowHash,
  StateChecksum,
} from "../../src/feed/checksum.ts";
import {
  type Attributes,
  attributeText,
  compareKeys,
  type FeedRecord,
  type Op,
  OP_ADD,
  OP_REMOVE,
  OP_UPDATE,
  type StreamHeader,
  type StreamKind,
} from "../../src/feed/stream_format.ts";
import { bufferSource, type ByteSource, StreamReader } from "../../src/feed/stream_reader.ts";
import { StreamWriter } from "../../src/feed/stream_writer.ts";
import { SyncError } from "../../src/feed/sync_error.ts";

export const encoder = new TextEncoder();
// ---------------------------------------------------------------------------------------------
// Keys and attributes

export function network(text: string): Uint8Array {
  const net = parseNetwork(text);
  return ipKey(maskTo(net.bytes, net.prefix), net.prefix);
}

export const MALWARE: Attributes = {
  verdict: 2,
  threat: "Demo.Malware.Host",
  categories: '["demo","malware-host"]',
  ttl: 3600,
  source: "demo",
};
export const PHISHING: Attributes = {
  verdict: 3,
  threat: null,
  categories: null,
  ttl: null,
  source: "demo",
};
export const ADWARE: Attributes = {
  verdict: 4,
  threat: "Ädware «x»",
  categories: '["ads"]',
  ttl: 0,
  source: "vendor-é",
};

export const MD5 = "44d88612fea8a8f36de82e1278abb02f";
/** The EICAR test file's attributes, as in the examples of docs/feed-format.md. */
export const EICAR_ATTRS: Attributes = {
  verdict: 2,
  threat: "EICAR-Test-File",
  categories: '["demo"]',
  ttl: 3600,
  source: "demo",
};
// Two URL expressions of 300+ bytes that share every byte up to the last five and have the
// same FNV-1a, so their keys share 320 bytes: more than the 255 the writer front-codes.
const LONG_PATH = "evil.example/" + "a".repeat(300) + "/";
export const COLLIDING = [LONG_PATH + "05pvu", LONG_PATH + "0c3ea"];

/** Keys of all five types, with long shared prefixes, in key order. */
export const KEYS: Uint8Array[] = [
  digestKeyFromHex("file", MD5),
  // An MD5 key is a prefix of this SHA-1 key, which is a prefix of the SHA-256 keys.
  digestKeyFromHex("file", MD5 + "00000000"),
  digestKeyFromHex("file", MD5 + "00000000" + "0".repeat(24)),
  digestKeyFromHex("file", MD5 + "00000000" + "0".repeat(22) + "01"),
  digestKeyFromHex("file", "ff".repeat(32)),
  textKey("url", "evil.example/"),
  textKey("url", "evil.example/a/b?c=d"),
  textKey("url", COLLIDING[0]),
  textKey("url", COLLIDING[1]),
  textKey("domain", "evil.example"),
  textKey("domain", "xn--bcher-kva.example"),
  network("192.0.2.1"),
  network("10.0.0.0/8"),
  network("0.0.0.0/0"),
  network("2001:db8::1"),
  network("2001:db8::/32"),
  network("::/0"),
  digestKeyFromHex("cert", "3395856ce81f2b7382dee72602f798b642f14140"),
  digestKeyFromHex("cert", "3395856ce81f2b7382dee72602f798b642f14141"),
  digestKeyFromHex("cert", "3395856ce81f2b7382dee72602f798b642f14140" + "ab".repeat(12)),
].sort(compareKeys);

export const D1 = 1764331200; // 2025-11-28T12:00:00Z
export const D2 = 1764417600;

// ---------------------------------------------------------------------------------------------
// Writing, reading and a reference apply

/** A record to write: `attrs` is looked up in the writer's table. */
export interface Row {
  op?: Op;
  key: Uint8Array;
  attrs?: Attributes;
  firstSeen?: number | null;
  lastSeen?: number | null;
  replaces?: Hash64 | null;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Writes rows into one stream; returns its bytes and the records a reader should give back. */
export function writeStream(
  kind: StreamKind,
  rows: Row[],
  header: Omit<StreamHeader, "kind" | "records">,
): { bytes: Uint8Array; records: FeedRecord[] } {
  const writer = new StreamWriter(kind);
  const records: FeedRecord[] = [];
  for (const row of rows) {
    const op = row.op ?? OP_ADD;
    const attr = op === OP_REMOVE ? -1 : writer.attribute(row.attrs ?? MALWARE);
    const record: FeedRecord = {
      op,
      key: row.key,
      attr,
      firstSeen: op === OP_REMOVE ? null : row.firstSeen ?? null,
      lastSeen: op === OP_REMOVE ? null : row.lastSeen ?? null,
      replaces: op === OP_ADD ? null : row.replaces ?? [1, 2],
    };
    writer.add(record);
    records.push(record);
  }
  assert.equal(writer.records, rows.length);
  return { bytes: concat(writer.finish(header)), records };
}

export interface Decoded {
  header: StreamHeader;
  attributes: Attributes[];
  records: FeedRecord[];
}

/** Reads a whole stream, including the check that nothing follows the last record. */
export function readAll(source: Uint8Array | ByteSource, label = "test.bin"): Decoded {
  const reader = new StreamReader(
    source instanceof Uint8Array ? bufferSource(source) : source,
    label,
  );
  const records: FeedRecord[] = [];
  for (let r = reader.next(); r !== null; r = reader.next()) records.push(r);
  const attributes = reader.attributes.map(({ hash: _, ...a }) => a);
  return { header: reader.header, attributes, records };
}

/** Asserts that `fn` throws the reader's invalid_feed error with a message matching `message`. */
export function throwsFeed(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SyncError, `expected a SyncError, got ${err}`);
    assert.equal(err.code, "invalid_feed");
    assert.match(err.message, message);
    return true;
  });
}

/** One mirror row: what it holds and its hash. */
export interface StoredRow {
  /** The attribute text and dates, so that two states compare by content. */
  content: string;
  hash: Hash64;
}

/** A mirror state: key (hex) → row. */
export type State = Map<string, StoredRow>;

export function stored(
  key: Uint8Array,
  text: string,
  firstSeen: number | null,
  lastSeen: number | null,
): StoredRow {
  return {
    content: JSON.stringify([text, firstSeen, lastSeen]),
    hash: rowHash(key, attributeHash(text), firstSeen, lastSeen),
  };
}

export const hexOf = (key: Uint8Array): string =>
  Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");

export function checksumOf(state: State): string {
  const sum = new StateChecksum();
  for (const row of state.values()) sum.add(row.hash);
  return sum.toHex();
}

/** A check outside the reader noticed the damage (a client makes the same checks). */
export class Noticed extends Error {}

/**
 * Reads a stream and applies it to `base` as a client does: the header must be what the
 * manifest promised, every replaced row must hash as named, and the state checksum must
 * come out as the header says. Returns the new state.
 */
export function applyChecked(
  bytes: Uint8Array,
  base: State,
  expect: { kind: StreamKind; version: number; fromVersion: number },
): State {
  const reader = new StreamReader(bufferSource(bytes), "test.bin");
  const h = reader.header;
  if (h.kind !== expect.kind || h.version !== expect.version) throw new Noticed("header");
  if (h.fromVersion !== expect.fromVersion) throw new Noticed("from version");
  const state: State = h.kind === "snapshot" ? new Map() : new Map(base);
  if (h.baseChecksum !== checksumOf(state)) throw new Noticed("base checksum");
  const sum = StateChecksum.fromHex(h.baseChecksum);
  for (let r = reader.next(); r !== null; r = reader.next()) {
    const id = hexOf(r.key);
    const old = state.get(id);
    if (r.op === OP_ADD) {
      if (old !== undefined) throw new Noticed("add of a present key");
    } else {
      if (old === undefined || old.hash[0] !== r.replaces![0] || old.hash[1] !== r.replaces![1]) {
        throw new Noticed("replaced row");
      }
      sum.subtract(old.hash);
      state.delete(id);
    }
    if (r.op !== OP_REMOVE) {
      const row = stored(r.key, attributeText(reader.attributes[r.attr]), r.firstSeen, r.lastSeen);
      assert.deepEqual(
        row.hash,
        rowHash(r.key, reader.attributes[r.attr].hash, r.firstSeen, r.lastSeen),
      );
      sum.add(row.hash);
      state.set(id, row);
    }
  }
  if (sum.toHex() !== h.checksum) throw new Noticed("state checksum");
  return state;
}

export function storedOf(row: Row): StoredRow {
  return stored(
    row.key,
    attributeText(row.attrs ?? MALWARE),
    row.firstSeen ?? null,
    row.lastSeen ?? null,
  );
}

/** A consistent snapshot of `rows` at `version`, with the right checksum. */
export function snapshotOf(rows: Row[], version: number): { bytes: Uint8Array; state: State } {
  const state: State = new Map(rows.map((r) => [hexOf(r.key), storedOf(r)]));
  const { bytes } = writeStream("snapshot", rows, {
    version,
    fromVersion: 0,
    baseChecksum: EMPTY_CHECKSUM,
    checksum: checksumOf(state),
  });
  return { bytes, state };
}

// A small base state and a delta with every op, used by the damage tests.
export const BASE_ROWS: Row[] = [
  { key: KEYS[0], attrs: MALWARE, firstSeen: D1, lastSeen: null },
  { key: KEYS[2], attrs: PHISHING, firstSeen: null, lastSeen: null },
  { key: KEYS[5], attrs: ADWARE, firstSeen: D1, lastSeen: D2 },
  { key: KEYS[9], attrs: PHISHING, firstSeen: null, lastSeen: D2 },
  { key: KEYS[12], attrs: MALWARE, firstSeen: null, lastSeen: null },
];

export function deltaFrom(
  base: Row[],
  dates: [number, number],
): { bytes: Uint8Array; after: State } {
  const [d1, d2] = dates;
  const baseState: State = new Map(base.map((r) => [hexOf(r.key), storedOf(r)]));
  const rows: Row[] = [
    { op: OP_UPDATE, key: base[0].key, attrs: PHISHING, firstSeen: d1, lastSeen: d2 },
    { op: OP_ADD, key: KEYS[1], attrs: ADWARE, firstSeen: null, lastSeen: d2 },
    { op: OP_REMOVE, key: base[1].key },
    { op: OP_ADD, key: KEYS[7], attrs: MALWARE, firstSeen: d1, lastSeen: null },
    { op: OP_UPDATE, key: base[3].key, attrs: PHISHING, firstSeen: null, lastSeen: null },
    { op: OP_REMOVE, key: base[4].key },
    { op: OP_ADD, key: KEYS[16], attrs: PHISHING, firstSeen: d1, lastSeen: d2 },
  ];
  const after: State = new Map(baseState);
  for (const row of rows) {
    const id = hexOf(row.key);
    if (row.op !== OP_ADD) row.replaces = after.get(id)!.hash;
    if (row.op === OP_REMOVE) after.delete(id);
    else after.set(id, storedOf(row));
  }
  const { bytes } = writeStream("delta", rows, {
    version: 8,
    fromVersion: 7,
    baseChecksum: checksumOf(baseState),
    checksum: checksumOf(after),
  });
  return { bytes, after };
}

// ---------------------------------------------------------------------------------------------
// A second, independent encoder written from docs/feed-format.md, for crafting bad streams.

export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

export function hexBytes(hex: string): number[] {
  return Array.from(
    { length: hex.length / 2 },
    (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16),
  );
}

export interface RawHeader {
  kind?: number;
  format?: number;
  version?: number;
  fromVersion?: number;
  baseChecksum?: string;
  checksum?: string;
  records: number;
  attributes?: (string | Uint8Array)[];
}

export function rawHeader(h: RawHeader): number[] {
  const out = [...encoder.encode("PKSNFEED"), h.format ?? 1, h.kind ?? 1];
  out.push(...varint(h.version ?? 1), ...varint(h.fromVersion ?? 0));
  out.push(
    ...hexBytes(h.baseChecksum ?? EMPTY_CHECKSUM),
    ...hexBytes(h.checksum ?? EMPTY_CHECKSUM),
  );
  const attributes = h.attributes ?? [attributeText(MALWARE)];
  out.push(...varint(h.records), ...varint(attributes.length));
  for (const a of attributes) {
    const bytes = typeof a === "string" ? encoder.encode(a) : a;
    out.push(...varint(bytes.length), ...bytes);
  }
  return out;
}

export interface RawRecord {
  flags?: number;
  shared?: number;
  suffix: Uint8Array;
  attr?: number;
  firstSeen?: number;
  lastSeen?: number;
  replaces?: [number, number];
}

export function rawRecord(r: RawRecord): number[] {
  const op = (r.flags ?? 0) & 3;
  const out = [r.flags ?? 0, ...varint(r.shared ?? 0), ...varint(r.suffix.length), ...r.suffix];
  if (op !== OP_REMOVE) {
    out.push(...varint(r.attr ?? 0));
    if (r.firstSeen !== undefined) out.push(...varint(r.firstSeen));
    if (r.lastSeen !== undefined) out.push(...varint(r.lastSeen));
  }
  if (r.replaces !== undefined) {
    for (const lane of r.replaces) {
      out.push(lane >>> 24, (lane >>> 16) & 0xff, (lane >>> 8) & 0xff, lane & 0xff);
    }
  }
  return out;
}

export function raw(header: RawHeader, records: RawRecord[] = []): Uint8Array {
  return Uint8Array.from([...rawHeader(header), ...records.flatMap(rawRecord)]);
}
