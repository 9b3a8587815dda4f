/**
 * The binary record stream that snapshots and deltas are made of (the layout is
 * specified in docs/feed-format.md). Keys are sorted and front-coded against the
 * previous key; attributes (verdict, threat, categories, TTL, source) sit in one
 * table that each record points into, so a file-hash record costs its digest
 * bytes plus about four.
 */
import { fnv1a } from "../reputation/keys.ts";
import { attributeHash, type Hash64 } from "./checksum.ts";
import { SyncError } from "./sync_error.ts";

const MAGIC = new TextEncoder().encode("PKSNFEED");
const FORMAT_VERSION = 1;

/** What a stream holds: the whole state, or the changes from one version to the next. */
export type StreamKind = "snapshot" | "delta";
const KIND_CODE = { snapshot: 1, delta: 2 } as const;

/** A record that is new in this version (every snapshot record is one). */
export const OP_ADD = 0;
/** A record whose attributes or dates change; names the row it replaces. */
export const OP_UPDATE = 1;
/** A record that goes away; names the row it removes. */
export const OP_REMOVE = 2;
export type Op = typeof OP_ADD | typeof OP_UPDATE | typeof OP_REMOVE;

const HAS_FIRST = 4;
const HAS_LAST = 8;

/** The fixed part of a stream. */
export interface StreamHeader {
  kind: StreamKind;
  /** The version this stream leads to. */
  version: number;
  /** A delta's base version; 0 for a snapshot. */
  fromVersion: number;
  /** The state checksum a delta must start from; the empty checksum for a snapshot. */
  baseChecksum: string;
  /** The state checksum after this stream. */
  checksum: string;
  records: number;
}

/** One decoded record. `attr` indexes the stream's attribute table. */
export interface FeedRecord {
  op: Op;
  key: Uint8Array;
  attr: number;
  firstSeen: number | null;
  lastSeen: number | null;
  /** For updates and removes: the hash of the row being replaced. */
  replaces: Hash64 | null;
}

/** Attribute fields as the entry table stores them. */
export interface Attributes {
  verdict: number;
  threat: string | null;
  categories: string | null;
  ttl: number | null;
  source: string;
}

/** The canonical text of an attribute set: what the table holds and the checksum hashes. */
export function attributeText(a: Attributes): string {
  return JSON.stringify([a.verdict, a.threat, a.categories, a.ttl, a.source]);
}

/** An attribute set decoded and checked, with its hash. */
export interface AttributeEntry extends Attributes {
  hash: Hash64;
}

function parseAttribute(text: string, index: number, label: string): AttributeEntry {
  const bad = (why: string): never => {
    throw new SyncError("invalid_feed", `${label}: attribute ${index} is invalid: ${why}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return bad("not JSON");
  }
  if (!Array.isArray(raw) || raw.length !== 5) return bad("expected a 5-element array");
  const [verdict, threat, categories, ttl, source] = raw;
  if (!Number.isInteger(verdict) || verdict < 1 || verdict > 5) return bad("verdict not 1..5");
  if (threat !== null && (typeof threat !== "string" || threat.length > 256 || !threat)) {
    return bad("threat must be null or a string of 1..256 characters");
  }
  if (categories !== null) {
    let list: unknown;
    try {
      list = typeof categories === "string" ? JSON.parse(categories) : undefined;
    } catch { /* reported below */ }
    if (!Array.isArray(list) || !list.every((c) => typeof c === "string")) {
      return bad("categories must be null or the JSON text of a list of strings");
    }
  }
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < 0 || ttl > 2_592_000)) {
    return bad("ttl must be null or 0..2592000");
  }
  if (typeof source !== "string" || source.length < 1 || source.length > 64) {
    return bad("source must be a string of 1..64 characters");
  }
  // Re-derive the text so the hash is of the canonical form, whatever spacing came in.
  const entry = { verdict, threat, categories, ttl, source };
  return { ...entry, hash: attributeHash(attributeText(entry)) };
}

/**
 * Longest key: a URL of 8,192 characters can grow when canonicalised (percent
 * encoding turns one UTF-8 byte into three characters: 9 × 8,192 + 5 bytes at most).
 */
export const MAX_KEY_BYTES = 131_072;
/** Longest attribute text: every field at its limit, with JSON escapes (16,437 bytes), doubled. */
export const MAX_ATTRIBUTE_BYTES = 32_768;

/** Compares keys as SQLite compares BLOBs (bytewise, shorter first on a tie). */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Why a key cannot be a look-up key, or null if it can. */
export function keyProblem(key: Uint8Array): string | null {
  const type = key[0];
  const n = key.length;
  if (type === 1) return n === 17 || n === 21 || n === 33 ? null : "file key of a wrong length";
  if (type === 5) return n === 21 || n === 33 ? null : "certificate key of a wrong length";
  if (type < 2 || type > 5) return `unknown type byte ${type}`;
  if (n < 6) return "key too short";
  if (n > MAX_KEY_BYTES) return "key too long";
  const h = fnv1a(key.subarray(5));
  if (
    key[1] !== h >>> 24 || key[2] !== ((h >>> 16) & 0xff) || key[3] !== ((h >>> 8) & 0xff) ||
    key[4] !== (h & 0xff)
  ) return "key hash does not match its payload";
  if (type === 4) {
    const prefix = key[n - 1];
    if (n === 10 ? prefix > 32 : n === 22 ? prefix > 128 : true) return "malformed IP key";
    // Bits past the prefix must be zero, or no look-up could ever find the key.
    for (let bit = prefix; bit < (n - 6) * 8; bit++) {
      if (key[5 + (bit >> 3)] & (0x80 >> (bit & 7))) return "IP key has bits set past its prefix";
    }
  }
  return null;
}

/** Growable output in 1 MiB blocks. */
class Output {
  readonly blocks: Uint8Array[] = [];
  #block = new Uint8Array(1 << 20);
  #at = 0;
  length = 0;

  #room(n: number): void {
    if (this.#at + n <= this.#block.length) return;
    this.blocks.push(this.#block.subarray(0, this.#at));
    this.#block = new Uint8Array(Math.max(1 << 20, n));
    this.#at = 0;
  }

  byte(b: number): void {
    this.#room(1);
    this.#block[this.#at++] = b;
    this.length++;
  }

  varint(v: number): void {
    this.#room(10);
    while (v >= 0x80) {
      this.#block[this.#at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
      this.length++;
    }
    this.#block[this.#at++] = v;
    this.length++;
  }

  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#block.set(b, this.#at);
    this.#at += b.length;
    this.length += b.length;
  }

  u32(v: number): void {
    this.#room(4);
    new DataView(this.#block.buffer, this.#block.byteOffset).setUint32(this.#at, v);
    this.#at += 4;
    this.length += 4;
  }

  done(): Uint8Array[] {
    this.blocks.push(this.#block.subarray(0, this.#at));
    this.#block = new Uint8Array(0);
    this.#at = 0;
    return this.blocks;
  }
}

const encoder = new TextEncoder();

/** Writes one stream; records must come in ascending key order. */
export class StreamWriter {
  readonly #kind: StreamKind;
  readonly #attrs = new Map<string, number>();
  readonly #body = new Output();
  #previous: Uint8Array = new Uint8Array(0);
  #records = 0;

  constructor(kind: StreamKind) {
    this.#kind = kind;
  }

  /** The table index of an attribute set, adding it if new. */
  attribute(a: Attributes): number {
    const text = attributeText(a);
    let index = this.#attrs.get(text);
    if (index === undefined) {
      if (encoder.encode(text).length > MAX_ATTRIBUTE_BYTES) {
        throw new SyncError(
          "invalid_source",
          `An attribute set is longer than ${MAX_ATTRIBUTE_BYTES} bytes: ${text.slice(0, 80)}…`,
        );
      }
      index = this.#attrs.size;
      this.#attrs.set(text, index);
    }
    return index;
  }

  /** Appends one record. */
  add(record: FeedRecord): void {
    if (this.#kind === "snapshot" && record.op !== OP_ADD) {
      throw new Error("A snapshot holds only additions");
    }
    if (this.#records > 0 && compareKeys(record.key, this.#previous) <= 0) {
      throw new Error("Records must be written in ascending key order");
    }
    const key = record.key;
    let shared = 0;
    const max = Math.min(key.length, this.#previous.length, 255);
    while (shared < max && key[shared] === this.#previous[shared]) shared++;
    const out = this.#body;
    let flags: number = record.op;
    if (record.op !== OP_REMOVE) {
      if (record.firstSeen !== null) flags |= HAS_FIRST;
      if (record.lastSeen !== null) flags |= HAS_LAST;
    }
    out.byte(flags);
    out.varint(shared);
    out.varint(key.length - shared);
    out.bytes(key.subarray(shared));
    if (record.op !== OP_REMOVE) {
      out.varint(record.attr);
      if (record.firstSeen !== null) out.varint(record.firstSeen);
      if (record.lastSeen !== null) out.varint(record.lastSeen);
    }
    if (record.op !== OP_ADD) {
      const [a, b] = record.replaces!;
      out.u32(a);
      out.u32(b);
    }
    this.#previous = key;
    this.#records++;
  }

  /** Number of records written so far. */
  get records(): number {
    return this.#records;
  }

  /** The whole stream: header, attribute table, records. */
  finish(header: Omit<StreamHeader, "kind" | "records">): Uint8Array[] {
    const head = new Output();
    head.bytes(MAGIC);
    head.byte(FORMAT_VERSION);
    head.byte(KIND_CODE[this.#kind]);
    head.varint(header.version);
    head.varint(header.fromVersion);
    head.bytes(hexBytes(header.baseChecksum));
    head.bytes(hexBytes(header.checksum));
    head.varint(this.#records);
    head.varint(this.#attrs.size);
    for (const text of this.#attrs.keys()) {
      const bytes = encoder.encode(text);
      head.varint(bytes.length);
      head.bytes(bytes);
    }
    return [...head.done(), ...this.#body.done()];
  }
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Where a reader's bytes come from: fills `into` and returns how many it wrote (0 at the end). */
export type ByteSource = (into: Uint8Array) => number;

/** A byte source over an in-memory buffer. */
export function bufferSource(bytes: Uint8Array): ByteSource {
  let at = 0;
  return (into) => {
    const n = Math.min(into.length, bytes.length - at);
    into.set(bytes.subarray(at, at + n));
    at += n;
    return n;
  };
}

/** A byte source over an open file, read synchronously in the caller's steps. */
export function fileSource(file: Deno.FsFile): ByteSource {
  return (into) => file.readSync(into) ?? 0;
}

const decoder = new TextDecoder("utf-8", { fatal: true });
const MAX_ATTRIBUTES = 1 << 20;

/** Reads one stream, checking its structure as it goes. */
export class StreamReader {
  readonly header: StreamHeader;
  readonly attributes: AttributeEntry[];
  readonly #source: ByteSource;
  readonly #label: string;
  #buf = new Uint8Array(1 << 20);
  #at = 0;
  #end = 0;
  #eof = false;
  #read = 0;
  #previous: Uint8Array = new Uint8Array(0);

  constructor(source: ByteSource, label: string) {
    this.#source = source;
    this.#label = label;
    this.#need(MAGIC.length + 2);
    for (let i = 0; i < MAGIC.length; i++) {
      if (this.#buf[this.#at + i] !== MAGIC[i]) this.#fail("not a pksn feed file");
    }
    this.#at += MAGIC.length;
    const format = this.#buf[this.#at++];
    if (format !== FORMAT_VERSION) this.#fail(`format version ${format}; this pksn reads 1`);
    const kindCode = this.#buf[this.#at++];
    const kind = kindCode === 1 ? "snapshot" : kindCode === 2 ? "delta" : undefined;
    if (kind === undefined) this.#fail(`unknown stream kind ${kindCode}`);
    const version = this.#varint();
    const fromVersion = this.#varint();
    this.#need(16);
    const baseChecksum = bytesHex(this.#buf.subarray(this.#at, this.#at + 8));
    const checksum = bytesHex(this.#buf.subarray(this.#at + 8, this.#at + 16));
    this.#at += 16;
    const records = this.#varint();
    const attrCount = this.#varint();
    if (attrCount > MAX_ATTRIBUTES) this.#fail(`${attrCount} attribute sets is too many`);
    this.attributes = [];
    for (let i = 0; i < attrCount; i++) {
      const n = this.#varint();
      if (n > MAX_ATTRIBUTE_BYTES) this.#fail(`attribute ${i} is too long`);
      this.#need(n);
      let text = "";
      try {
        text = decoder.decode(this.#buf.subarray(this.#at, this.#at + n));
      } catch {
        this.#fail(`attribute ${i} is not UTF-8`);
      }
      this.#at += n;
      this.attributes.push(parseAttribute(text, i, label));
    }
    this.header = { kind: kind!, version, fromVersion, baseChecksum, checksum, records };
  }

  /** The next record, or null after the last one (checking nothing follows it). */
  next(): FeedRecord | null {
    if (this.#read === this.header.records) {
      if (this.#at < this.#end || this.#fill() > 0) this.#fail("bytes after the last record");
      return null;
    }
    this.#need(1);
    const flags = this.#buf[this.#at++];
    const op = (flags & 3) as Op;
    if (op > OP_REMOVE || flags > 15) this.#fail(`record ${this.#read + 1} has bad flags`);
    if (this.header.kind === "snapshot" && op !== OP_ADD) {
      this.#fail(`record ${this.#read + 1}: a snapshot holds only additions`);
    }
    const shared = this.#varint();
    const rest = this.#varint();
    if (shared > this.#previous.length || shared + rest > MAX_KEY_BYTES || shared + rest === 0) {
      this.#fail(`record ${this.#read + 1} has a bad key length`);
    }
    this.#need(rest);
    const key = new Uint8Array(shared + rest);
    key.set(this.#previous.subarray(0, shared));
    key.set(this.#buf.subarray(this.#at, this.#at + rest), shared);
    this.#at += rest;
    if (this.#read > 0 && compareKeys(key, this.#previous) <= 0) {
      this.#fail(`record ${this.#read + 1} is out of key order`);
    }
    const problem = keyProblem(key);
    if (problem !== null) this.#fail(`record ${this.#read + 1}: ${problem}`);
    let attr = -1;
    let firstSeen: number | null = null;
    let lastSeen: number | null = null;
    if (op !== OP_REMOVE) {
      attr = this.#varint();
      if (attr >= this.attributes.length) {
        this.#fail(`record ${this.#read + 1} points at attribute ${attr}, past the table`);
      }
      if (flags & HAS_FIRST) firstSeen = this.#varint();
      if (flags & HAS_LAST) lastSeen = this.#varint();
    }
    let replaces: Hash64 | null = null;
    if (op !== OP_ADD) {
      this.#need(8);
      const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#at, 8);
      replaces = [view.getUint32(0), view.getUint32(4)];
      this.#at += 8;
    }
    this.#previous = key;
    this.#read++;
    return { op, key, attr, firstSeen, lastSeen, replaces };
  }

  #fail(why: string): never {
    throw new SyncError("invalid_feed", `${this.#label}: ${why}`);
  }

  #fill(): number {
    if (this.#eof) return 0;
    if (this.#at > 0) {
      this.#buf.copyWithin(0, this.#at, this.#end);
      this.#end -= this.#at;
      this.#at = 0;
    }
    const n = this.#source(this.#buf.subarray(this.#end));
    if (n === 0) this.#eof = true;
    this.#end += n;
    return n;
  }

  #need(n: number): void {
    if (this.#end - this.#at >= n) return;
    if (n > this.#buf.length) {
      const bigger = new Uint8Array(n);
      bigger.set(this.#buf.subarray(this.#at, this.#end));
      this.#end -= this.#at;
      this.#at = 0;
      this.#buf = bigger;
    }
    while (this.#end - this.#at < n) {
      if (this.#fill() === 0) this.#fail("the file ends in the middle of a record (truncated)");
    }
  }

  #varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      this.#need(1);
      const b = this.#buf[this.#at++];
      value += (b & 0x7f) * scale;
      if (value > Number.MAX_SAFE_INTEGER) this.#fail("a number is larger than 2^53 - 1");
      if (b < 0x80) return value;
      scale *= 0x80;
    }
    return this.#fail("a number is too long");
  }
}
