/**
 * Applying a delta in two steps, so that no transaction stays open while the
 * event loop runs (a request's write on another connection would then wait on
 * SQLite's busy timeout with the loop blocked, and fail).
 *
 * 1. Check, reading in chunks between which the event loop runs: every
 *    replaced row must hash to what the delta names, and the state checksum is
 *    carried along from the rows actually stored. Checked changes are staged
 *    compactly in memory.
 * 2. If the checksum comes out as the delta says, one synchronous transaction
 *    writes the staged changes, and commits only if no other writer touched
 *    the mirror in between.
 *
 * A checksum mismatch or a wrong base applies nothing; a crash leaves the
 * mirror at the old version.
 */
import {
  bumpGeneration,
  type DatabaseSync,
  MirrorRowReader,
  MirrorRowWriter,
  readGenerations,
  readTransaction,
  type RowArray,
  transaction,
} from "../store/mod.ts";
import { rowHash, StateChecksum } from "./checksum.ts";
import type { ApplyOptions } from "./apply_options.ts";
import { keyHex, RowHasher } from "./mirror_checksum.ts";
import { StagedChanges } from "./staged_changes.ts";
import { readMirrorState, writeMirrorState } from "./mirror_state.ts";
import { type FeedRecord, OP_ADD, OP_REMOVE } from "./stream_format.ts";
import type { StreamReader } from "./stream_reader.ts";
import { SyncError } from "./sync_error.ts";

const DEFAULT_BATCH = 20_000;

/**
 * Applies a delta stream. Throws a {@link SyncError} (`wrong_base`,
 * `checksum_mismatch`, `mirror_changed`, `invalid_feed`) and leaves the mirror
 * as it was.
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
  const generation = readGenerations(db).entries;
  const staged = new StagedChanges();
  const checksum = await check(db, reader, state.checksum, staged, options);
  if (checksum !== header.checksum) {
    throw new SyncError(
      "checksum_mismatch",
      `Delta ${header.fromVersion}→${header.version} would leave the mirror with checksum ` +
        `${checksum}; the feed says ${header.checksum}. Nothing was applied`,
    );
  }
  const attrs = reader.attributes;
  const rows = new MirrorRowWriter(db);
  transaction(db, () => {
    if (readGenerations(db).entries !== generation) {
      throw new SyncError(
        "mirror_changed",
        "Another writer (an import?) changed the mirror while the delta was checked; " +
          "nothing was applied, the next run tries again",
      );
    }
    for (let i = 0; i < staged.length; i++) {
      const change = staged.at(i);
      if (change.op === OP_REMOVE) {
        rows.remove(change.key);
        continue;
      }
      const a = attrs[change.attr];
      if (change.op === OP_ADD) rows.add(change, a);
      else rows.update(change, a);
    }
    writeMirrorState(db, {
      version: header.version,
      checksum: header.checksum,
      expires: options.expires,
    });
    bumpGeneration(db, "entries");
  });
}

/** Checks every record against the stored rows and stages it; returns the resulting checksum. */
async function check(
  db: DatabaseSync,
  reader: StreamReader,
  baseChecksum: string,
  staged: StagedChanges,
  options: ApplyOptions,
): Promise<string> {
  const stored = new MirrorRowReader(db);
  const hasher = new RowHasher();
  const sum = StateChecksum.fromHex(baseChecksum);
  const batch = options.batch ?? DEFAULT_BATCH;
  const attrs = reader.attributes;
  let record = reader.next();
  while (record !== null) {
    // One read transaction per chunk: SQLite would otherwise open and close one per row.
    readTransaction(db, () => {
      for (let n = 0; n < batch && record !== null; n++, record = reader.next()) {
        checkBase(record, stored.get(record.key), hasher, sum);
        if (record.op !== OP_REMOVE) {
          const a = attrs[record.attr];
          sum.add(rowHash(record.key, a.hash, record.firstSeen, record.lastSeen));
        }
        staged.push(record);
      }
    });
    await options.pause?.();
  }
  return sum.toHex();
}

/** Throws `wrong_base` unless the stored row is the one the record expects. */
function checkBase(
  record: FeedRecord,
  old: RowArray | undefined,
  hasher: RowHasher,
  sum: StateChecksum,
): void {
  if (record.op === OP_ADD) {
    if (old === undefined) return;
    throw new SyncError(
      "wrong_base",
      `Delta adds key ${keyHex(record.key)}, which the mirror already holds`,
    );
  }
  if (old === undefined) {
    throw new SyncError(
      "wrong_base",
      `Delta changes key ${keyHex(record.key)}, which the mirror does not hold`,
    );
  }
  const h = hasher.hashArray(record.key, old);
  if (h[0] !== record.replaces![0] || h[1] !== record.replaces![1]) {
    throw new SyncError(
      "wrong_base",
      `Delta replaces a different row for key ${keyHex(record.key)} than the mirror holds`,
    );
  }
  sum.subtract(h);
}
