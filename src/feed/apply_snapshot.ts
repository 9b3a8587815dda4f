/**
 * Applying a snapshot: the new mirror is written into a table beside the live
 * one in short committed chunks (the write lock is free between them and no
 * transaction stays open while the event loop runs), its checksum is checked,
 * and one synchronous transaction swaps it in with the local overrides copied
 * over. A crash leaves the old version; the half-built table is dropped by the
 * next run.
 */
import { bumpGeneration, type DatabaseSync, SnapshotTable, transaction } from "../store/mod.ts";
import { rowHash, StateChecksum } from "./checksum.ts";
import type { ApplyOptions } from "./apply_options.ts";
import { writeMirrorState } from "./mirror_state.ts";
import type { StreamReader } from "./stream_reader.ts";
import { SyncError } from "./sync_error.ts";

const DEFAULT_BATCH = 20_000;

/**
 * Applies a snapshot stream. Throws a {@link SyncError} and leaves the mirror
 * as it was.
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
  const next = SnapshotTable.create(db);
  if (next === null) throw new SyncError("store_error", "The database has no entry table");
  try {
    const checksum = await fill(db, next, reader, options);
    if (checksum !== header.checksum) {
      throw new SyncError(
        "checksum_mismatch",
        `Snapshot ${header.version} has checksum ${checksum}, the feed says ${header.checksum}`,
      );
    }
    next.swapIn(() => {
      writeMirrorState(db, {
        version: header.version,
        checksum: header.checksum,
        expires: options.expires,
      });
      bumpGeneration(db, "entries");
    });
  } finally {
    next.drop();
  }
}

/** Writes every record into the new table; returns the checksum of what it wrote. */
async function fill(
  db: DatabaseSync,
  next: SnapshotTable,
  reader: StreamReader,
  options: ApplyOptions,
): Promise<string> {
  const sum = new StateChecksum();
  const batch = options.batch ?? DEFAULT_BATCH;
  const attrs = reader.attributes;
  let record = reader.next();
  while (record !== null) {
    transaction(db, () => {
      for (let n = 0; n < batch && record !== null; n++, record = reader.next()) {
        const a = attrs[record.attr];
        next.put(record, a);
        sum.add(rowHash(record.key, a.hash, record.firstSeen, record.lastSeen));
      }
    });
    await options.pause?.();
  }
  return sum.toHex();
}
