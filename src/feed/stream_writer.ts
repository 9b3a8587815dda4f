/** Encodes a record stream (the format is in stream_format.ts and docs/feed-format.md). */
import {
  type Attributes,
  attributeText,
  compareKeys,
  type FeedRecord,
  FORMAT_VERSION,
  HAS_FIRST,
  HAS_LAST,
  KIND_CODE,
  MAGIC,
  MAX_ATTRIBUTE_BYTES,
  OP_ADD,
  OP_REMOVE,
  type StreamHeader,
  type StreamKind,
} from "./stream_format.ts";
import { SyncError } from "./sync_error.ts";
import { fromHex } from "../core/mod.ts";

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
    head.bytes(fromHex(header.baseChecksum));
    head.bytes(fromHex(header.checksum));
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
