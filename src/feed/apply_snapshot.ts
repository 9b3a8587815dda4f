/**
 * Applying a snapshot: the new mirror is written into a table beside the live
 * one in short committed chunks (the write lock is free between them and no
 * transaction stays open while the event loop runs), its checksum is checked,
 * and one synchronous transaction swaps it in with the local overrides copied
 * over. A crash leaves the old version; the half-built table is dropped by the
 * next run.
 */
import type { DatabaseSync } from "node:sqlite";
import { bumpGeneration, ORIGIN_LOCAL, transaction } from "../store/mod.ts";
import { rowHash, StateChecksum } from "./checksum.ts";
import type { ApplyOptions } from "./apply.ts";
import {
  dropUnfinishedApply,
  entryColumns,
  entrySchema,
  entryTableAs,
  NEXT_TABLE,
} from "./mirror_tables.ts";
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
  dropUnfinishedApply(db);
  const { indexes } = entrySchema(db);
  db.exec(entryTableAs(db, NEXT_TABLE));
  try {
    const checksum = await fill(db, reader, options);
    if (checksum !== header.checksum) {
      throw new SyncError(
        "checksum_mismatch",
        `Snapshot ${header.version} has checksum ${checksum}, the feed says ${header.checksum}`,
      );
    }
    const columns = entryColumns(db).join(", ");
    transaction(db, () => {
      db.exec(
        `INSERT INTO ${NEXT_TABLE} (${columns}) SELECT ${columns} FROM entry ` +
          `WHERE origin = ${ORIGIN_LOCAL}`,
      );
      db.exec("DROP TABLE entry");
      db.exec(`ALTER TABLE ${NEXT_TABLE} RENAME TO entry`);
      for (const index of indexes) db.exec(index);
      writeMirrorState(db, {
        version: header.version,
        checksum: header.checksum,
        expires: options.expires,
      });
      bumpGeneration(db, "entries");
    });
  } finally {
    db.exec(`DROP TABLE IF EXISTS ${NEXT_TABLE}`);
  }
}

/** Writes every record into the new table; returns the checksum of what it wrote. */
async function fill(
  db: DatabaseSync,
  reader: StreamReader,
  options: ApplyOptions,
): Promise<string> {
  const put = db.prepare(
    `INSERT INTO ${NEXT_TABLE} (key, origin, verdict, threat, categories, first_seen, ` +
      "last_seen, ttl, source) VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?)",
  );
  const sum = new StateChecksum();
  const batch = options.batch ?? DEFAULT_BATCH;
  const attrs = reader.attributes;
  let record = reader.next();
  while (record !== null) {
    transaction(db, () => {
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
    });
    await options.pause?.();
  }
  return sum.toHex();
}
