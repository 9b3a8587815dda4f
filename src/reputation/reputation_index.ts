/**
 * Everything a look-up needs to know before it asks SQLite: the key prefixes
 * that exist, which IP prefix lengths are listed, and record counts by type.
 * It is rebuilt from the database as a whole and swapped in, so readers never
 * see a half-built index.
 */
import {
  countByLead,
  type DatabaseSync,
  distinctKeyTails,
  type IndexFileHeader,
  readGenerations,
  readIndexFile,
  readTransactionAsync,
  scanKeyPrefixes,
  writeIndexFile,
} from "../store/mod.ts";
import { PrefixIndex } from "./prefix_index.ts";
import { TYPE_BYTE } from "./keys.ts";
import { OBJECT_TYPES, type ObjectType } from "./types.ts";

/** Row counts of one object type. */
export interface TypeCounts {
  mirror: number;
  local: number;
}

/** A built index. It is never changed; a newer one replaces it. */
export interface ReputationIndex {
  readonly prefixes: PrefixIndex;
  /** Listed IPv4 prefix lengths, longest first. */
  readonly ipv4Lengths: readonly number[];
  /** Listed IPv6 prefix lengths, longest first. */
  readonly ipv6Lengths: readonly number[];
  /** Whether any local override exists (if not, the first mirror hit is final). */
  readonly hasOverrides: boolean;
  readonly counts: Readonly<Record<ObjectType, TypeCounts>>;
  readonly builtAt: number;
  readonly buildMillis: number;
  /** The entries generation it reflects: a write after it bumps the counter past this. */
  readonly generation: number;
  /** Whether it was read from DATA/index.bin rather than built from the rows. */
  readonly fromFile?: boolean;
}

/**
 * Builds the index from the database inside one read transaction, so it reflects
 * one committed state even when writers commit meanwhile. Give the build its own
 * connection when `pause` lets other work run between chunks.
 */
export async function buildIndex(
  db: DatabaseSync,
  options: { now: number; pause?: () => Promise<void> },
): Promise<ReputationIndex> {
  const started = performance.now();
  const leads = OBJECT_TYPES.map((t) => TYPE_BYTE[t]);
  return await readTransactionAsync(
    db,
    () => build(db, leads, options.now, started, options.pause),
  );
}

async function build(
  db: DatabaseSync,
  leads: number[],
  now: number,
  started: number,
  pause?: () => Promise<void>,
): Promise<ReputationIndex> {
  const generation = readGenerations(db).entries;
  const counts = {} as Record<ObjectType, TypeCounts>;
  let overrides = 0;
  let scanned = 0;
  for (const type of OBJECT_TYPES) {
    counts[type] = await countByLead(db, TYPE_BYTE[type], pause);
    overrides += counts[type].local;
    if (leads.includes(TYPE_BYTE[type])) scanned += counts[type].mirror + counts[type].local;
  }
  // Counted once here and handed on: counting a 10M-row table twice costs a fifth of a build.
  const prefixes = await PrefixIndex.fromUnsorted(
    await scanKeyPrefixes(db, leads, pause, scanned),
    pause,
  );
  const v4 = new Set<number>();
  const v6 = new Set<number>();
  // An IP key is lead byte, 4 hash bytes, 4 or 16 address bytes, prefix length.
  for (const tail of distinctKeyTails(db, TYPE_BYTE.ip)) {
    (tail.length === 10 ? v4 : v6).add(tail.last);
  }
  return {
    prefixes,
    ipv4Lengths: [...v4].sort((a, b) => b - a),
    ipv6Lengths: [...v6].sort((a, b) => b - a),
    hasOverrides: overrides > 0,
    counts,
    builtAt: now,
    buildMillis: Math.round(performance.now() - started),
    generation,
  };
}

/** The index's parts other than its prefixes, as the file's header holds them. */
interface SavedParts extends IndexFileHeader {
  ipv4Lengths: number[];
  ipv6Lengths: number[];
  hasOverrides: boolean;
  counts: Record<ObjectType, TypeCounts>;
}

/**
 * The index saved in `dataDir` when it is the one of the database's current state (same entries
 * generation, the file the database records); null otherwise, and the caller builds.
 */
export async function loadSavedIndex(
  db: DatabaseSync,
  dataDir: string,
  now: number,
): Promise<ReputationIndex | null> {
  const started = performance.now();
  return await readTransactionAsync(db, async () => {
    const generation = readGenerations(db).entries;
    const saved = await readIndexFile(db, dataDir, generation);
    if (saved === null) return null;
    const parts = saved.header as SavedParts;
    if (!Array.isArray(parts.ipv4Lengths) || typeof parts.counts !== "object") return null;
    const prefixes = prefixIndexOf(saved.body);
    if (prefixes === null) return null;
    return {
      prefixes,
      ipv4Lengths: parts.ipv4Lengths,
      ipv6Lengths: parts.ipv6Lengths,
      hasOverrides: parts.hasOverrides,
      counts: parts.counts,
      builtAt: now,
      buildMillis: Math.round(performance.now() - started),
      generation,
      fromFile: true,
    };
  });
}

/** Saves a freshly built index (nothing added to it since) for the next start. */
export async function saveIndex(
  db: DatabaseSync,
  dataDir: string,
  index: ReputationIndex,
): Promise<void> {
  const header: SavedParts = {
    generation: index.generation,
    ipv4Lengths: [...index.ipv4Lengths],
    ipv6Lengths: [...index.ipv6Lengths],
    hasOverrides: index.hasOverrides,
    counts: index.counts,
  };
  await writeIndexFile(db, dataDir, header, [index.prefixes.starts, index.prefixes.lows]);
}

/** The prefix index in a saved file's body: the bucket table, then the 16-bit tails. */
function prefixIndexOf(body: Uint8Array): PrefixIndex | null {
  const startsBytes = STARTS_LENGTH * 4;
  if (body.length < startsBytes || (body.length - startsBytes) % 2 !== 0) return null;
  const starts = new Uint32Array(body.buffer, body.byteOffset, STARTS_LENGTH);
  const lows = new Uint16Array(
    body.buffer,
    body.byteOffset + startsBytes,
    (body.length - startsBytes) / 2,
  );
  return PrefixIndex.fromParts(starts, lows);
}

// The bucket table's length: one start per top-16-bit bucket, and the end.
const STARTS_LENGTH = 65537;

/**
 * Builds the index of the database as it now is and saves it, so the serving node's next start
 * reads it instead of scanning every key. For the commands that write many rows (import, sync):
 * they pay the scan once, at the end of work that took far longer, and the node starts in a
 * fraction of a second. A node serving meanwhile builds and saves its own; whichever file is
 * last, the database's record of it decides whether a start may use it.
 */
export async function saveIndexForNextStart(
  db: DatabaseSync,
  dataDir: string,
  now: number,
): Promise<ReputationIndex> {
  const index = await buildIndex(db, { now });
  await saveIndex(db, dataDir, index);
  return index;
}
