/**
 * The look-up index kept on disk, `DATA/index.bin`, so a restart reads it in one go instead of
 * scanning every key (seconds at ten million). The file is the index's arrays after a small JSON
 * header (whose layout the reputation layer defines); which database state it belongs to is recorded in the database
 * itself (meta `index_file`: the entries generation it was built at and the file's SHA-256), so a
 * file that does not match, is torn or belongs to another copy of the data is never used.
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { readMeta, writeMeta } from "./node_meta.ts";

// Version 2: the arrays are the caller's parts (bucket table and 16-bit prefix tails); a version 1
// file (32-bit prefixes) is refused even where the database still records its hash.
const MAGIC = "PKSNIDX2";
const META = "index_file";
const encoder = new TextEncoder();
// Written in slices, so no single write asks the runtime for a buffer of the whole index.
const WRITE_CHUNK = 1 << 20;

/** What the file holds besides its arrays: the index's small parts, as JSON. */
export interface IndexFileHeader {
  /** The entries generation the index was built at. */
  generation: number;
  [part: string]: unknown;
}

/** The file's path in a data folder. */
export function indexFilePath(dataDir: string): string {
  return join(dataDir, "index.bin");
}

/**
 * Writes the file (a temporary file, synced, renamed over the old one), then records it in
 * `db`'s meta. A crash between the two leaves the old record, which the new file does not
 * match: the next start rebuilds.
 */
export async function writeIndexFile(
  db: DatabaseSync,
  dataDir: string,
  header: IndexFileHeader,
  parts: readonly (Uint32Array | Uint16Array)[],
): Promise<void> {
  const text = encoder.encode(JSON.stringify(header));
  // The arrays start on a 4-byte boundary, so a reader can view them in place; each part but
  // the last must be a whole number of 4-byte words for the next to stay aligned.
  const headLength = Math.ceil((12 + text.length) / 4) * 4;
  const head = new Uint8Array(headLength);
  head.set(encoder.encode(MAGIC), 0);
  new DataView(head.buffer).setUint32(8, text.length, true);
  head.set(text, 12);
  // Written and hashed from the index's own arrays: a copy would be tens of MB at 10M keys.
  const bodies = parts.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  // Hashed slice by slice as it is written: the whole at once (tens of MB) would hold a serving
  // node's event loop for tens of milliseconds.
  const hash = createHash("sha256");
  const path = indexFilePath(dataDir);
  const temp = `${path}.tmp`;
  const file = await Deno.open(temp, { write: true, create: true, truncate: true, mode: 0o600 });
  try {
    for (const part of [head, ...bodies]) {
      for (let at = 0; at < part.length;) {
        const slice = part.subarray(at, at + WRITE_CHUNK);
        hash.update(slice);
        let written = 0;
        while (written < slice.length) written += await file.write(slice.subarray(written));
        at += slice.length;
      }
    }
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(temp, path);
  writeMeta(
    db,
    META,
    JSON.stringify({ generation: header.generation, sha256: hash.digest("hex") }),
  );
}

/**
 * The file's header and the bytes of its arrays (4-byte aligned) when it is the one `db` records
 * and was built at `generation`; null otherwise (missing, stale, torn or another database's).
 */
export async function readIndexFile(
  db: DatabaseSync,
  dataDir: string,
  generation: number,
): Promise<{ header: IndexFileHeader; body: Uint8Array } | null> {
  const recorded = parseRecord(readMeta(db, META));
  if (recorded === null || recorded.generation !== generation) return null;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(indexFilePath(dataDir));
  } catch {
    return null;
  }
  if (bytes.length < 12 || sha256(bytes) !== recorded.sha256) return null;
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const headLength = Math.ceil((12 + length) / 4) * 4;
  if (headLength > bytes.length) return null;
  let header: IndexFileHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  } catch {
    return null;
  }
  if (header.generation !== generation) return null;
  // Deno.readFile's buffer starts at offset 0, so the body is aligned; copied if it is not.
  const body = (bytes.byteOffset + headLength) % 4 === 0
    ? bytes.subarray(headLength)
    : bytes.slice(headLength);
  return { header, body };
}

function parseRecord(text: string | undefined): { generation: number; sha256: string } | null {
  if (text === undefined) return null;
  try {
    const value = JSON.parse(text);
    return typeof value?.generation === "number" && typeof value?.sha256 === "string"
      ? value
      : null;
  } catch {
    return null;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
