/**
 * Hashing stored mirror rows the way the feed does: one row at a time while a
 * delta is checked or a source diffed, or every row for the mirror's checksum.
 */
import { type DatabaseSync, mirrorRows, type RowArray } from "../store/mod.ts";
import { attributeHash, type Hash64, rowHash, StateChecksum } from "./checksum.ts";
import { type Attributes, attributeText } from "./stream_format.ts";
import { toHex } from "../core/mod.ts";

/** A mirror row's stored fields besides its key. */
export interface MirrorRow extends Attributes {
  first_seen: number | null;
  last_seen: number | null;
}

/** Hashes stored rows, remembering the hash of each attribute set it meets. */
export class RowHasher {
  readonly #attrs = new Map<string, Hash64>();

  hash(key: Uint8Array, row: MirrorRow): Hash64 {
    const text = attributeText(row);
    let attr = this.#attrs.get(text);
    if (attr === undefined) {
      attr = attributeHash(text);
      this.#attrs.set(text, attr);
    }
    return rowHash(key, attr, row.first_seen, row.last_seen);
  }

  /** The same for a row read as an array ({@link RowArray}). */
  hashArray(key: Uint8Array, row: RowArray): Hash64 {
    return this.hash(key, {
      verdict: row[0],
      threat: row[1],
      categories: row[2],
      first_seen: row[3],
      last_seen: row[4],
      ttl: row[5],
      source: row[6],
    });
  }
}

/** A key as hex, for messages. */
export function keyHex(key: Uint8Array): string {
  return toHex(key);
}

/** Recomputes the mirror's checksum from its rows (for `pksn sync verify` and tests). */
export function computeMirrorChecksum(db: DatabaseSync): { checksum: string; rows: number } {
  const hasher = new RowHasher();
  const sum = new StateChecksum();
  let rows = 0;
  for (const row of mirrorRows(db)) {
    sum.add(hasher.hash(row.key, row));
    rows++;
  }
  return { checksum: sum.toHex(), rows };
}
