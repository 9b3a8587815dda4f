/**
 * A hand-written check of the record shape nearly every import line has, so
 * that such a line skips zod: zod's schema costs more than JSON parsing does.
 * The check only vouches for records; anything it is unsure of (a wrong type,
 * a limit crossed, a date as text, a separated thumbprint) it leaves to the
 * schema, which then accepts it or words the error. So the check may be
 * stricter than {@link recordSchema}, never looser; tests/feeds/quick_record_test.ts
 * holds the two side by side. File and cert keys are built here too, in one
 * pass over the hex and into shared buffers: a Uint8Array of its own costs
 * several times what decoding its digest does.
 */
import type { EntryRow, Origin } from "../store/mod.ts";
import {
  OBJECT_TYPES,
  type ObjectType,
  RECORD_LIMITS,
  recordRows,
  type recordSchema,
  TYPE_BYTE,
  VERDICT_CODE,
  VERDICTS,
} from "../reputation/mod.ts";
import type { z } from "zod";

type RecordInput = z.infer<typeof recordSchema>;

const MAX_VALUE = RECORD_LIMITS.value;
const MAX_THREAT = RECORD_LIMITS.threat;
const MAX_CATEGORY = RECORD_LIMITS.category;
const MAX_CATEGORIES = RECORD_LIMITS.categories;
const MAX_SOURCE = RECORD_LIMITS.source;
const MAX_TTL = RECORD_LIMITS.ttl;
const LATEST_SECONDS = RECORD_LIMITS.latestSeconds;
// The schema's test for text that is not printable; ASCII text is checked without it.
const NOT_PRINTABLE = /\p{C}/u;

const TYPES: ReadonlySet<string> = new Set(OBJECT_TYPES);
const LISTED: ReadonlyMap<string, number> = new Map(
  VERDICTS.filter((v) => v !== "unknown").map((v) => [v, VERDICT_CODE[v]]),
);

// Hex digit values by character code, -1 for anything else; or-ing two keeps the sign.
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

// Keys are carved from slabs of this size; a slab lives while a row still holds a key in it.
const SLAB_BYTES = 65_536;

/**
 * Turns records of the common shape into rows without zod. Holds the import's
 * origin and default source and the slab keys are cut from; one per import.
 */
export class QuickRecords {
  readonly #origin: Origin;
  readonly #source: string;
  readonly #rows: EntryRow[] = [];
  // The keys of a file or cert record's value, md5, sha1 and sha256 fields, in recordKeys' order.
  readonly #keys: (Uint8Array | undefined | null)[] = [undefined, undefined, undefined, undefined];
  #slab = new ArrayBuffer(SLAB_BYTES);
  #used = 0;

  constructor(origin: Origin, defaultSource: string) {
    this.#origin = origin;
    this.#source = defaultSource;
  }

  /**
   * The rows of a record that is surely valid, or `undefined` when the schema
   * must judge it. The array is reused by the next call. A url, domain or ip
   * record goes through `recordRows`, which throws as it does after zod.
   */
  rows(raw: unknown): readonly EntryRow[] | undefined {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return undefined;
    const record = raw as Record<string, unknown>;
    let type: ObjectType | undefined;
    let verdict = -1;
    let digests = 0;
    for (const field in record) {
      const value = record[field];
      switch (field) {
        case "type":
          if (typeof value !== "string" || !TYPES.has(value)) return undefined;
          type = value as ObjectType;
          break;
        case "verdict":
          verdict = typeof value === "string" ? LISTED.get(value) ?? -1 : -1;
          if (verdict < 0) return undefined;
          break;
        case "value":
          if (typeof value !== "string" || value.length < 1 || value.length > MAX_VALUE) {
            return undefined;
          }
          break;
        case "md5":
        case "sha1":
        case "sha256":
          if (typeof value !== "string") return undefined;
          digests++;
          break;
        case "threat":
          if (!isPrintable(value, MAX_THREAT)) return undefined;
          break;
        case "source":
          if (!isPrintable(value, MAX_SOURCE)) return undefined;
          break;
        case "categories":
          if (!areCategories(value)) return undefined;
          break;
        case "ttl":
          if (!isIntegerIn(value, MAX_TTL)) return undefined;
          break;
        case "firstSeen":
        case "lastSeen":
          // A date as text is left to the schema, which parses it and words its errors.
          if (!isIntegerIn(value, LATEST_SECONDS)) return undefined;
          break;
        default:
          return undefined;
      }
    }
    if (type === undefined || verdict < 0) return undefined;
    if (type !== "file" && type !== "cert") {
      // The shape is the schema's; a bad value is recordRows' to report, with its own words.
      return digests > 0 || record.value === undefined
        ? undefined
        : recordRows(record as RecordInput, this.#origin, this.#source);
    }
    return this.#digestRows(type, record, verdict);
  }

  /** Rows of a file or cert record whose digests are all plain hex of the field's kind. */
  #digestRows(
    type: "file" | "cert",
    record: Record<string, unknown>,
    verdict: number,
  ): readonly EntryRow[] | undefined {
    const keys = this.#keys;
    keys[0] = this.#key(type, record.value, 0);
    keys[1] = this.#key(type, record.md5, type === "file" ? 32 : -1);
    keys[2] = this.#key(type, record.sha1, 40);
    keys[3] = this.#key(type, record.sha256, 64);
    const categories = record.categories as string[] | undefined;
    const threat = (record.threat as string | undefined) ?? null;
    const listed = categories?.length ? JSON.stringify(categories) : null;
    const firstSeen = (record.firstSeen as number | undefined) ?? null;
    const lastSeen = (record.lastSeen as number | undefined) ?? null;
    const ttl = (record.ttl as number | undefined) ?? null;
    const source = (record.source as string | undefined) ?? this.#source;
    const rows = this.#rows;
    rows.length = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === null) return undefined;
      if (key === undefined || isRepeat(keys, i)) continue;
      rows.push({
        key,
        origin: this.#origin,
        verdict,
        threat,
        categories: listed,
        first_seen: firstSeen,
        last_seen: lastSeen,
        ttl,
        source,
      });
    }
    return rows.length > 0 ? rows : undefined;
  }

  /**
   * The key of a digest field: `undefined` if the field is absent, `null` if
   * it is not hex of the length its field needs (`0`: 32, 40 or 64 for a file
   * and 40 or 64 for a cert; `-1`: none).
   */
  #key(type: "file" | "cert", text: unknown, length: number): Uint8Array | undefined | null {
    if (text === undefined) return undefined;
    const hex = text as string;
    const n = hex.length;
    if (length === 0) {
      if (n !== 40 && n !== 64 && (n !== 32 || type === "cert")) return null;
    } else if (n !== length) return null;
    const size = 1 + (n >> 1);
    if (this.#used + size > SLAB_BYTES) {
      this.#slab = new ArrayBuffer(SLAB_BYTES);
      this.#used = 0;
    }
    const key = new Uint8Array(this.#slab, this.#used, size);
    key[0] = TYPE_BYTE[type];
    let bad = 0;
    for (let i = 1, j = 0; i < size; i++, j += 2) {
      const c = hex.charCodeAt(j);
      const d = hex.charCodeAt(j + 1);
      const high = c < 128 ? HEX[c] : -1;
      const low = d < 128 ? HEX[d] : -1;
      bad |= high | low;
      key[i] = (high << 4) | low;
    }
    if (bad < 0) return null;
    this.#used += size;
    return key;
  }
}

function isPrintable(value: unknown, max: number): boolean {
  if (typeof value !== "string" || value.length < 1 || value.length > max) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return !NOT_PRINTABLE.test(value);
  }
  return true;
}

function areCategories(value: unknown): boolean {
  if (!Array.isArray(value) || value.length > MAX_CATEGORIES) return false;
  for (let i = 0; i < value.length; i++) if (!isPrintable(value[i], MAX_CATEGORY)) return false;
  return true;
}

function isIntegerIn(value: unknown, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

/** Whether an earlier field gave the same digest (perhaps in other case): it is one key. */
function isRepeat(keys: readonly (Uint8Array | undefined | null)[], at: number): boolean {
  const key = keys[at]!;
  for (let i = 0; i < at; i++) {
    const other = keys[i];
    if (other && sameBytes(other, key)) return true;
  }
  return false;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
