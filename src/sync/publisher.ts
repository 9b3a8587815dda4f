/**
 * Publishing a feed: version N+1 from the mirror rows of a source database.
 *
 * The publisher keeps its own state database (a pksn database whose mirror is
 * the published state). A build diffs the source against it in key order, writes
 * the delta (and a full snapshot every K versions), then the manifest, and the
 * timestamp last with an atomic rename; only then does it apply its own delta to
 * the state, read back from the file it wrote. If a build dies after the
 * timestamp, the next one first catches the state up from the tree itself.
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { quote } from "../errors.ts";
import { TYPE_BYTE } from "../reputation/keys.ts";
import type { ObjectType } from "../reputation/types.ts";
import { applyDelta, applySnapshot, RowHasher } from "./apply.ts";
import { attributeHash, EMPTY_CHECKSUM, rowHash, StateChecksum } from "./checksum.ts";
import { canonicalJson } from "./canonical_json.ts";
import {
  checkFile,
  feedPath,
  readTextIfExists,
  ROOT_FILE,
  rootFile,
  TIMESTAMP_FILE,
  writeFileAtomic,
} from "./feed_files.ts";
import {
  type DeltaRef,
  type Envelope,
  type Manifest,
  manifestSchema,
  parseEnvelope,
  parseJson,
  type Root,
  rootSchema,
  signEnvelope,
  type Timestamp,
  timestampSchema,
  verifyRole,
} from "./metadata.ts";
import { readMirrorState } from "./mirror_state.ts";
import {
  attributeText,
  compareKeys,
  fileSource,
  keyProblem,
  OP_ADD,
  OP_REMOVE,
  OP_UPDATE,
  StreamReader,
  StreamWriter,
} from "./record_stream.ts";
import type { SigningKey } from "./signing.ts";
import { SyncError } from "./sync_error.ts";

/** What a build needs. */
export interface BuildOptions {
  /** The feed tree (served as plain files). */
  out: string;
  /** The publisher's state database (migrated pksn database). */
  state: DatabaseSync;
  /** The database whose mirror rows become version N+1. */
  source: DatabaseSync;
  /** Keys of the root's timestamp role. */
  timestampKeys: SigningKey[];
  now: number;
  /** A full snapshot every this many versions. */
  snapshotEvery: number;
  /** Deltas older than this are pruned (those still needed after the snapshot are kept). */
  deltaRetentionSeconds: number;
  /** The timestamp's lifetime. */
  expiresSeconds: number;
  minPollSeconds: number;
}

/** What a build did. */
export interface BuildReport {
  version: number;
  records: number;
  added: number;
  updated: number;
  removed: number;
  snapshot: boolean;
  checksum: string;
  deltaBytes: number | null;
  snapshotBytes: number | null;
  pruned: string[];
}

interface Row {
  key: Uint8Array;
  verdict: number;
  threat: string | null;
  categories: string | null;
  first_seen: number | null;
  last_seen: number | null;
  ttl: number | null;
  source: string;
}

const ROWS_SQL = "SELECT key, verdict, threat, categories, first_seen, last_seen, ttl, source " +
  "FROM entry WHERE origin = 0 ORDER BY key";

const TYPE_NAMES = Object.fromEntries(
  Object.entries(TYPE_BYTE).map(([name, byte]) => [byte, name]),
) as Record<number, ObjectType>;

/** Reads and checks the feed's root. */
export async function readFeedRoot(out: string): Promise<Root> {
  const text = await readTextIfExists(join(out, ROOT_FILE));
  if (text === null) {
    throw new SyncError(
      "no_root",
      `${quote(join(out, ROOT_FILE))} does not exist; run "pksn feed init" first`,
    );
  }
  return parseEnvelope(text, rootSchema, ROOT_FILE).signed;
}

/** The current timestamp and manifest of a feed tree, verified against its root; null if none. */
export async function readCurrent(
  out: string,
  root: Root,
): Promise<{ timestamp: Timestamp; manifest: Manifest } | null> {
  const text = await readTextIfExists(join(out, TIMESTAMP_FILE));
  if (text === null) return null;
  const envelope = parseEnvelope(text, timestampSchema, TIMESTAMP_FILE);
  await verifyRole(envelope, root, "timestamp", TIMESTAMP_FILE);
  const ref = envelope.signed.manifest;
  const path = feedPath(out, ref.name);
  await checkFile(path, ref);
  const manifest = parseJson(await Deno.readTextFile(path), manifestSchema, ref.name);
  return { timestamp: envelope.signed, manifest };
}

/**
 * The tree's current version as its publisher reads it. Right after a rotation
 * that replaced the timestamp keys, timestamp.json is still signed by keys only
 * an older root lists; the publisher wrote those roots, so they vouch for it.
 */
async function readOwnCurrent(
  out: string,
  root: Root,
): Promise<{ timestamp: Timestamp; manifest: Manifest } | null> {
  const badSignature = (err: unknown): boolean =>
    err instanceof SyncError && err.code === "bad_signature";
  try {
    return await readCurrent(out, root);
  } catch (err) {
    if (!badSignature(err)) throw err;
    for (let version = root.version - 1; version >= 1; version--) {
      const text = await readTextIfExists(join(out, rootFile(version)));
      if (text === null) break;
      try {
        return await readCurrent(out, parseEnvelope(text, rootSchema, rootFile(version)).signed);
      } catch (older) {
        if (!badSignature(older)) throw older;
      }
    }
    throw err;
  }
}

async function applyFile(
  db: DatabaseSync,
  out: string,
  ref: { name: string },
  kind: "snapshot" | "delta",
  expires: number,
): Promise<void> {
  const file = await Deno.open(feedPath(out, ref.name), { read: true });
  try {
    const reader = new StreamReader(fileSource(file), ref.name);
    if (kind === "snapshot") await applySnapshot(db, reader, { expires });
    else await applyDelta(db, reader, { expires });
  } finally {
    file.close();
  }
}

/** Brings the state database up to the tree's current version (after an interrupted build). */
async function catchUp(
  state: DatabaseSync,
  out: string,
  current: Manifest,
  expires: number,
): Promise<void> {
  let at = readMirrorState(state).version;
  if (at === current.version) return;
  if (at > current.version) {
    throw new SyncError(
      "publisher_state_ahead",
      `The publisher state is at version ${at} but the feed's timestamp is at ${current.version}; ` +
        "restore the feed tree or the state database from the same backup",
    );
  }
  const byFrom = new Map(current.deltas.map((d) => [d.from, d]));
  if (at < current.snapshot.version && !byFrom.has(at)) {
    await applyFile(state, out, current.snapshot, "snapshot", expires);
    at = current.snapshot.version;
  }
  while (at < current.version) {
    const delta = byFrom.get(at);
    if (delta === undefined) {
      throw new SyncError("missing_delta", `The feed tree lacks the delta from version ${at}`);
    }
    await applyFile(state, out, delta, "delta", expires);
    at = delta.to;
  }
}

function* sortedRows(db: DatabaseSync, label: string): Generator<Row> {
  let previous: Uint8Array | undefined;
  for (const raw of db.prepare(ROWS_SQL).iterate()) {
    const row = raw as unknown as Row;
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

/** Builds version N+1. */
export async function buildVersion(options: BuildOptions): Promise<BuildReport> {
  const { out, state, source, now } = options;
  const root = await readFeedRoot(out);
  const missing = options.timestampKeys.filter((k) =>
    !root.roles.timestamp.keyids.includes(k.keyid)
  );
  if (missing.length) {
    throw new SyncError(
      "wrong_key",
      `Key ${
        missing[0].keyid.slice(0, 16)
      }… is not a timestamp key of root version ${root.version}`,
    );
  }
  const current = await readOwnCurrent(out, root);
  if (current) await catchUp(state, out, current.manifest, Date.parse(current.timestamp.expires));
  else if (readMirrorState(state).version !== 0) {
    throw new SyncError(
      "publisher_state_ahead",
      "The feed tree has no timestamp.json but the publisher state has published versions; " +
        "use the state database that belongs to this tree, or a new one",
    );
  }
  const previous = current?.manifest;
  const version = (previous?.version ?? 0) + 1;
  const baseChecksum = readMirrorState(state).checksum;
  const created = new Date(now).toISOString();

  // One merge pass: the delta, the counts and the new checksum.
  const delta = new StreamWriter("delta");
  const counts: Record<ObjectType, number> = { file: 0, url: 0, domain: 0, ip: 0, cert: 0 };
  const hasher = new RowHasher();
  const sum = StateChecksum.fromHex(baseChecksum);
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
    const attr = delta.attribute(row);
    delta.add({
      op: replaces ? OP_UPDATE : OP_ADD,
      key: row.key,
      attr,
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      replaces,
    });
    sum.add(rowHash(row.key, attributeHash(attributeText(row)), row.first_seen, row.last_seen));
    n = news.next();
  }
  const checksum = sum.toHex();

  let deltaRef: DeltaRef | null = null;
  if (previous) {
    const chunks = delta.finish({ version, fromVersion: version - 1, baseChecksum, checksum });
    const temp = join(out, "deltas", `.build-${version}`);
    const written = await writeFileAtomic(temp, chunks);
    const name = `deltas/${version - 1}-${version}.${written.sha256}.bin`;
    await Deno.rename(temp, join(out, name));
    deltaRef = {
      name,
      sha256: written.sha256,
      length: written.length,
      from: version - 1,
      to: version,
      records: delta.records,
      checksum,
      created,
    };
  }

  const wantSnapshot = !previous || version - previous.snapshot.version >= options.snapshotEvery;
  let snapshotRef = previous?.snapshot;
  if (wantSnapshot) {
    const writer = new StreamWriter("snapshot");
    for (const row of sortedRows(source, "the source database")) {
      writer.add({
        op: OP_ADD,
        key: row.key,
        attr: writer.attribute(row),
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        replaces: null,
      });
    }
    const chunks = writer.finish({
      version,
      fromVersion: 0,
      baseChecksum: EMPTY_CHECKSUM,
      checksum,
    });
    const temp = join(out, "snapshots", `.build-${version}`);
    const written = await writeFileAtomic(temp, chunks);
    const name = `snapshots/${version}.${written.sha256}.bin`;
    await Deno.rename(temp, join(out, name));
    snapshotRef = {
      name,
      sha256: written.sha256,
      length: written.length,
      version,
      records: writer.records,
      checksum,
    };
  }

  const retainAfter = now - options.deltaRetentionSeconds * 1000;
  const deltas = [...(previous?.deltas ?? []), ...(deltaRef ? [deltaRef] : [])].filter((d) =>
    d.to > snapshotRef!.version || Date.parse(d.created) >= retainAfter
  );
  const manifest: Manifest = {
    type: "manifest",
    version,
    created,
    counts,
    checksum,
    snapshot: snapshotRef!,
    deltas,
  };
  const manifestBytes = new TextEncoder().encode(canonicalJson(manifest));
  const manifestTemp = join(out, "manifests", `.build-${version}`);
  const manifestWritten = await writeFileAtomic(manifestTemp, [manifestBytes]);
  const manifestName = `manifests/${version}.${manifestWritten.sha256}.json`;
  await Deno.rename(manifestTemp, join(out, manifestName));

  const timestamp: Timestamp = {
    type: "timestamp",
    version,
    expires: new Date(now + options.expiresSeconds * 1000).toISOString(),
    manifest: {
      name: manifestName,
      sha256: manifestWritten.sha256,
      length: manifestWritten.length,
    },
    minPollSeconds: options.minPollSeconds,
  };
  const envelope: Envelope<Timestamp> = await signEnvelope(timestamp, options.timestampKeys);
  await writeFileAtomic(join(out, TIMESTAMP_FILE), [
    new TextEncoder().encode(JSON.stringify(envelope, null, 1) + "\n"),
  ]);

  const pruned = await prune(
    out,
    [manifest, previous].filter((m) => m !== undefined),
    manifestName,
    current?.timestamp.manifest.name,
  );
  // The state follows the tree, read back from the files just written.
  await catchUp(state, out, manifest, Date.parse(timestamp.expires));
  return {
    version,
    records,
    added,
    updated,
    removed,
    snapshot: wantSnapshot,
    checksum,
    deltaBytes: deltaRef?.length ?? null,
    snapshotBytes: wantSnapshot ? snapshotRef!.length : null,
    pruned,
  };
}

/** Removes data files and manifests that neither the new nor the previous manifest names. */
async function prune(
  out: string,
  keep: Manifest[],
  ...manifestNames: (string | undefined)[]
): Promise<string[]> {
  const wanted = new Set<string>(manifestNames.filter((n): n is string => n !== undefined));
  for (const m of keep) {
    wanted.add(m.snapshot.name);
    for (const d of m.deltas) wanted.add(d.name);
  }
  const removed: string[] = [];
  for (const folder of ["manifests", "snapshots", "deltas"]) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(join(out, folder))];
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    for (const entry of entries) {
      const name = `${folder}/${entry.name}`;
      if (!entry.isFile || wanted.has(name)) continue;
      await Deno.remove(join(out, name));
      removed.push(name);
    }
  }
  return removed;
}
