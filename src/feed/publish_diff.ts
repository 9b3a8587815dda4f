/**
 * The publisher's passes over the source database: the merge with the
 * published state that yields the delta, the counts and the new checksum, and
 * the full snapshot. The publisher runs both inside one read transaction on
 * the source, so a writer between them cannot make the snapshot disagree with
 * the delta.
 */
import { type ObjectType, TYPE_BYTE } from "../reputation/mod.ts";
import { RowHasher } from "./apply.ts";
import { EMPTY_CHECKSUM, StateChecksum } from "./checksum.ts";
import { compareKeys, keyProblem, OP_ADD, OP_REMOVE, OP_UPDATE } from "./stream_format.ts";
import { StreamWriter } from "./stream_writer.ts";
import { SyncError } from "./sync_error.ts";
import { type DatabaseSync, type MirrorEntryRow as Row, mirrorRowsByKey } from "../store/mod.ts";

/** What the merge of the source with the published state found. */
export interface Diff {
  /** The delta's records, not yet given a header. */
  delta: StreamWriter;
  /** Keys per object type in the source. */
  counts: Record<ObjectType, number>;
  records: number;
  added: number;
  updated: number;
  removed: number;
  /** The state checksum after the delta. */
  checksum: string;
}

const TYPE_NAMES = Object.fromEntries(
  Object.entries(TYPE_BYTE).map(([name, byte]) => [byte, name]),
) as Record<number, ObjectType>;

function* sortedRows(db: DatabaseSync, label: string): Generator<Row> {
  let previous: Uint8Array | undefined;
  for (const row of mirrorRowsByKey(db)) {
    const problem = keyProblem(row.key);
    if (problem !== null) {
      throw new SyncError(
        "invalid_source",
        `${label} holds a row that cannot be published: ${problem}`,
      );
    }
    if (row.verdict < 1 || row.verdict > 5) {
      throw new SyncError(
        "invalid_source",
        `${label} holds a row with verdict code ${row.verdict}`,
      );
    }
    if (previous !== undefined && compareKeys(previous, row.key) >= 0) {
      throw new SyncError("invalid_source", `${label} returned rows out of key order`);
    }
    previous = row.key;
    yield row;
  }
}

function sameRow(a: Row, b: Row): boolean {
  return a.verdict === b.verdict && a.threat === b.threat && a.categories === b.categories &&
    a.first_seen === b.first_seen && a.last_seen === b.last_seen && a.ttl === b.ttl &&
    a.source === b.source;
}

/**
 * One merge pass over the published state and the source, both in key order:
 * the delta, the counts and the new checksum from `baseChecksum`.
 */
export function diffSource(
  state: DatabaseSync,
  source: DatabaseSync,
  options: { baseChecksum: string; hasher: RowHasher },
): Diff {
  const { hasher } = options;
  const delta = new StreamWriter("delta");
  const counts: Record<ObjectType, number> = { file: 0, url: 0, domain: 0, ip: 0, cert: 0 };
  const sum = StateChecksum.fromHex(options.baseChecksum);
  let added = 0, updated = 0, removed = 0, records = 0;
  const olds = sortedRows(state, "the publisher state");
  const news = sortedRows(source, "the source database");
  let o = olds.next();
  let n = news.next();
  while (!o.done || !n.done) {
    const order = o.done ? 1 : n.done ? -1 : compareKeys(o.value.key, n.value.key);
    if (order < 0) {
      const old = o.value as Row;
      const h = hasher.hash(old.key, old);
      sum.subtract(h);
      delta.add({
        op: OP_REMOVE,
        key: old.key,
        attr: 0,
        firstSeen: null,
        lastSeen: null,
        replaces: h,
      });
      removed++;
      o = olds.next();
      continue;
    }
    const row = n.value as Row;
    counts[TYPE_NAMES[row.key[0]]]++;
    records++;
    if (order === 0 && sameRow(o.value as Row, row)) {
      o = olds.next();
      n = news.next();
      continue;
    }
    let replaces = null;
    if (order === 0) {
      replaces = hasher.hash((o.value as Row).key, o.value as Row);
      sum.subtract(replaces);
      updated++;
      o = olds.next();
    } else added++;
    delta.add({
      op: replaces ? OP_UPDATE : OP_ADD,
      key: row.key,
      attr: delta.attribute(row),
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      replaces,
    });
    sum.add(hasher.hash(row.key, row));
    n = news.next();
  }
  return { delta, counts, records, added, updated, removed, checksum: sum.toHex() };
}

/**
 * The full snapshot of the source at `version`. Throws `source_changed` unless
 * its rows add up to `checksum`, the one the diff pass computed.
 */
export function snapshotSource(
  source: DatabaseSync,
  options: { version: number; checksum: string; hasher: RowHasher },
): { chunks: Uint8Array[]; records: number } {
  const { version, checksum, hasher } = options;
  const writer = new StreamWriter("snapshot");
  const sum = new StateChecksum();
  for (const row of sortedRows(source, "the source database")) {
    writer.add({
      op: OP_ADD,
      key: row.key,
      attr: writer.attribute(row),
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      replaces: null,
    });
    sum.add(hasher.hash(row.key, row));
  }
  const own = sum.toHex();
  if (own !== checksum) {
    throw new SyncError(
      "source_changed",
      `The source database changed during the build: the snapshot's rows give checksum ${own}, ` +
        `the delta's ${checksum}; nothing was published, build again`,
    );
  }
  const chunks = writer.finish({ version, fromVersion: 0, baseChecksum: EMPTY_CHECKSUM, checksum });
  return { chunks, records: writer.records };
}
