/** Decodes a record stream and checks its structure (the format is in stream_format.ts). */
import type { Hash64 } from "./checksum.ts";
import {
  type AttributeEntry,
  compareKeys,
  type FeedRecord,
  FORMAT_VERSION,
  HAS_FIRST,
  HAS_LAST,
  keyProblem,
  MAGIC,
  MAX_ATTRIBUTE_BYTES,
  MAX_KEY_BYTES,
  type Op,
  OP_ADD,
  OP_REMOVE,
  parseAttribute,
  type StreamHeader,
} from "./stream_format.ts";
import { SyncError } from "./sync_error.ts";
import { toHex } from "../core/mod.ts";

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

  /** Records read so far. */
  get recordsRead(): number {
    return this.#read;
  }

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
    const baseChecksum = toHex(this.#buf.subarray(this.#at, this.#at + 8));
    const checksum = toHex(this.#buf.subarray(this.#at + 8, this.#at + 16));
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
