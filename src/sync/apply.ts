/**
 * Applying snapshots and deltas to the mirror rows (origin 0) of a pksn
 * database. Local overrides are never touched.
 *
 * A delta runs in one transaction: every replaced row must hash to what the
 * delta names, and the state checksum must come out as the delta says, or it
 * rolls back. A snapshot is written into a new table in committed chunks (so
 * the write lock is free between them and readers are never held up), then
 * swapped for the live table in one short transaction. A crash anywhere leaves
 * the database at the old version or the new one, never between.
 */
import type { DatabaseSync } from "node:sqlite";
import { ORIGIN_MIRROR } from "../store/entries.ts";
import { bumpGeneration } from "../store/generation.ts";
import { attributeHash, type Hash64, rowHash, StateChecksum } from "./checksum.ts";
import { readMirrorState, writeMirrorState } from "./mirror_state.ts";
import {
  type Attributes,
  attributeText,
  type FeedRecord,
  OP_ADD,
  OP_REMOVE,
  OP_UPDATE,
  type StreamReader,
} from "./record_stream.ts";
import { SyncError } from "./sync_error.ts";

/** How an apply runs. */
export interface ApplyOptions {
  /** Signed expiry (ms) of the timestamp the version came with. */
  expires: number | null;
  /** Awaited between batches so a serving process keeps answering. */
  pause?: () => Promise<void>;
  /** Records per batch between pauses (and per committed chunk of a snapshot). */
  batch?: number;
}

const DEFAULT_BATCH = 20_000;
const NEXT_TABLE = "entry_next";

/** The entry table's definition (as migration 1 made it) under another name. */
function entryTableSql(name: string): string {
  return `CREATE TABLE ${name} (
        key        BLOB    NOT NULL,
        origin     INTEGER NOT NULL CHECK (origin IN (0, 1)),
        verdict    INTEGER NOT NULL,
        threat     TEXT,
        categories TEXT,
        first_seen INTEGER,
        last_seen  INTEGER,
        ttl        INTEGER,
        source     TEXT    NOT NULL,
        PRIMARY KEY (key, origin)
      ) WITHOUT ROWID`;
}

/** Drops what an interrupted snapshot apply left behind. */
export function dropUnfinishedSnapshot(db: DatabaseSync): void {
  db.exec(`DROP TABLE IF EXISTS ${NEXT_TABLE}`);
}

interface MirrorRow extends Attributes {
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
}

function keyHex(key: Uint8Array): string {
  return Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Applies a delta stream. Throws a {@link SyncError} (`wrong_base`,
 * `checksum_mismatch`, `invalid_feed`) and leaves the mirror as it was.
 */
export async function applyDelta(
  db: DatabaseSync,
  reader: StreamReader,
  options: ApplyOptions,
): Promise<void> {
  const header = reader.header;
  const state = readMirrorState(db);
  if (header.kind !== "delta") {
    throw new SyncError("invalid_feed", "Expected a delta, got a snapshot");
  }
  if (header.fromVersion !== state.version || header.baseChecksum !== state.checksum) {
    throw new SyncError(
      "wrong_base",
      `Delta ${header.fromVersion}→${header.version} (base checksum ${header.baseChecksum}) ` +
        `does not apply to mirror version ${state.version} (checksum ${state.checksum})`,
    );
  }
  const get = db.prepare(
    "SELECT verdict, threat, categories, first_seen, last_seen, ttl, source " +
      "FROM entry WHERE key = ? AND origin = 0",
  );
  const insert = db.prepare(
    "INSERT INTO entry (key, origin, verdict, threat, categories, first_seen, " +
      "last_seen, ttl, source) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
  );
  // An update in place: REPLACE would delete and re-insert the row.
  const update = db.prepare(
    "UPDATE entry SET verdict = ?, threat = ?, categories = ?, first_seen = ?, " +
      "last_seen = ?, ttl = ?, source = ? WHERE key = ? AND origin = 0",
  );
  // A remove reads the row it deletes in the same step; an add relies on the
  // primary key to refuse a row that exists. Fewer B-tree walks per change.
  const take = db.prepare(
    "DELETE FROM entry WHERE key = ? AND origin = 0 " +
      "RETURNING verdict, threat, categories, first_seen, last_seen, ttl, source",
  );
  const hasher = new RowHasher();
  const sum = StateChecksum.fromHex(state.checksum);
  const batch = options.batch ?? DEFAULT_BATCH;
  const attrs = reader.attributes;
  db.exec("BEGIN IMMEDIATE");
  try {
    let n = 0;
    for (let record = reader.next(); record !== null; record = reader.next()) {
      const a = attrs[record.attr];
      if (record.op === OP_ADD) {
        try {
          insert.run(
            record.key,
            a.verdict,
            a.threat,
            a.categories,
            record.firstSeen,
            record.lastSeen,
            a.ttl,
            a.source,
          );
        } catch (err) {
          if (!isConstraintError(err)) throw err;
          throw new SyncError(
            "wrong_base",
            `Delta adds key ${keyHex(record.key)}, which the mirror already holds`,
          );
        }
      } else {
        const old = (record.op === OP_REMOVE ? take : get).get(record.key) as
          | MirrorRow
          | undefined;
        checkReplaced(record, old, hasher, sum);
        if (record.op === OP_UPDATE) {
          update.run(
            a.verdict,
            a.threat,
            a.categories,
            record.firstSeen,
            record.lastSeen,
            a.ttl,
            a.source,
            record.key,
          );
        }
      }
      if (record.op !== OP_REMOVE) {
        sum.add(rowHash(record.key, a.hash, record.firstSeen, record.lastSeen));
      }
      if (++n % batch === 0) await options.pause?.();
    }
    if (sum.toHex() !== header.checksum) {
      throw new SyncError(
        "checksum_mismatch",
        `After delta ${header.fromVersion}→${header.version} the mirror checksum is ${sum.toHex()}, ` +
          `the feed says ${header.checksum}; rolled back`,
      );
    }
    writeMirrorState(db, {
      version: header.version,
      checksum: header.checksum,
      expires: options.expires,
    });
    bumpGeneration(db, "entries");
    db.exec("COMMIT");
  } catch (err) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw err;
  }
}

/** Throws `wrong_base` unless the row an update or remove replaces is the one the delta names. */
function checkReplaced(
  record: FeedRecord,
  old: MirrorRow | undefined,
  hasher: RowHasher,
  sum: StateChecksum,
): void {
  if (old === undefined) {
    throw new SyncError(
      "wrong_base",
      `Delta changes key ${keyHex(record.key)}, which the mirror does not hold`,
    );
  }
  const h = hasher.hash(record.key, old);
  if (h[0] !== record.replaces![0] || h[1] !== record.replaces![1]) {
    throw new SyncError(
      "wrong_base",
      `Delta replaces a different row for key ${keyHex(record.key)} than the mirror holds`,
    );
  }
  sum.subtract(h);
}

// SQLITE_CONSTRAINT_PRIMARYKEY and SQLITE_CONSTRAINT_UNIQUE.
const KEY_EXISTS: ReadonlySet<number> = new Set([1555, 2067]);

function isConstraintError(err: unknown): boolean {
  return KEY_EXISTS.has((err as { errcode?: number }).errcode ?? 0);
}

/**
 * Applies a snapshot stream: builds the new mirror beside the live one, checks
 * its checksum, then swaps it in. Throws a {@link SyncError} and leaves the
 * mirror as it was.
 */
export async function applySnapshot(
  db: DatabaseSync,
  reader: StreamReader,
  options: ApplyOptions,
): Promise<void> {
  const header = reader.header;
  if (header.kind !== "snapshot") {
    throw new SyncError("invalid_feed", "Expected a snapshot, got a delta");
  }
  dropUnfinishedSnapshot(db);
  db.exec(entryTableSql(NEXT_TABLE));
  const put = db.prepare(
    `INSERT INTO ${NEXT_TABLE} (key, origin, verdict, threat, categories, first_seen, ` +
      "last_seen, ttl, source) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
  );
  const sum = new StateChecksum();
  const batch = options.batch ?? DEFAULT_BATCH;
  const attrs = reader.attributes;
  try {
    let record = reader.next();
    while (record !== null) {
      db.exec("BEGIN IMMEDIATE");
      try {
        for (let n = 0; n < batch && record !== null; n++, record = reader.next()) {
          const a = attrs[record.attr];
          put.run(
            record.key,
            a.verdict,
            a.threat,
            a.categories,
            record.firstSeen,
            record.lastSeen,
            a.ttl,
            a.source,
          );
          sum.add(rowHash(record.key, a.hash, record.firstSeen, record.lastSeen));
        }
        db.exec("COMMIT");
      } catch (err) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw err;
      }
      await options.pause?.();
    }
    if (sum.toHex() !== header.checksum) {
      throw new SyncError(
        "checksum_mismatch",
        `Snapshot ${header.version} has checksum ${sum.toHex()}, the feed says ${header.checksum}`,
      );
    }
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(`INSERT INTO ${NEXT_TABLE} SELECT * FROM entry WHERE origin = ${1 - ORIGIN_MIRROR}`);
      db.exec("DROP TABLE entry");
      db.exec(`ALTER TABLE ${NEXT_TABLE} RENAME TO entry`);
      writeMirrorState(db, {
        version: header.version,
        checksum: header.checksum,
        expires: options.expires,
      });
      bumpGeneration(db, "entries");
      db.exec("COMMIT");
    } catch (err) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw err;
    }
  } catch (err) {
    dropUnfinishedSnapshot(db);
    throw err;
  }
}

/** Recomputes the mirror's checksum from its rows (for `pksn sync verify` and tests). */
export function computeMirrorChecksum(db: DatabaseSync): { checksum: string; rows: number } {
  const hasher = new RowHasher();
  const sum = new StateChecksum();
  let rows = 0;
  const all = db.prepare(
    "SELECT key, verdict, threat, categories, first_seen, last_seen, ttl, source " +
      "FROM entry WHERE origin = 0",
  );
  for (const row of all.iterate()) {
    const r = row as unknown as MirrorRow & { key: Uint8Array };
    sum.add(hasher.hash(r.key, r));
    rows++;
  }
  return { checksum: sum.toHex(), rows };
}
