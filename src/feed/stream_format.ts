/**
 * The binary record stream that snapshots and deltas are made of (the layout is
 * specified in docs/feed-format.md). Keys are sorted and front-coded against the
 * previous key; attributes (verdict, threat, categories, TTL, source) sit in one
 * table that each record points into, so a file-hash record costs its digest
 * bytes plus about four. This module holds the format's constants, types and
 * rules; stream_writer.ts encodes and stream_reader.ts decodes.
 */
import { fnv1a } from "../reputation/mod.ts";
import { attributeHash, type Hash64 } from "./checksum.ts";
import { SyncError } from "./sync_error.ts";

/** The eight bytes every stream starts with. */
export const MAGIC = new TextEncoder().encode("PKSNFEED");
/** The stream format this pksn writes and reads. */
export const FORMAT_VERSION = 1;

/** What a stream holds: the whole state, or the changes from one version to the next. */
export type StreamKind = "snapshot" | "delta";
/** The header byte for each stream kind. */
export const KIND_CODE = { snapshot: 1, delta: 2 } as const;

/** A record that is new in this version (every snapshot record is one). */
export const OP_ADD = 0;
/** A record whose attributes or dates change; names the row it replaces. */
export const OP_UPDATE = 1;
/** A record that goes away; names the row it removes. */
export const OP_REMOVE = 2;
export type Op = typeof OP_ADD | typeof OP_UPDATE | typeof OP_REMOVE;

/** Record flag: a first-seen date follows. */
export const HAS_FIRST = 4;
/** Record flag: a last-seen date follows. */
export const HAS_LAST = 8;

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

/** Parses and checks one attribute table entry; `label` names the file in errors. */
export function parseAttribute(text: string, index: number, label: string): AttributeEntry {
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
