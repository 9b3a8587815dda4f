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
import { dirname, join } from "node:path";
import { type DatabaseSync, syncDir, withReadTransaction } from "../store/mod.ts";
import { RowHasher } from "./apply.ts";
import { canonicalJson } from "./canonical_json.ts";
import { TIMESTAMP_FILE, writeFileAtomic } from "./feed_files.ts";
import {
  checkSchema,
  type DeltaRef,
  type Envelope,
  type FileRef,
  type Manifest,
  manifestSchema,
  type Root,
  signEnvelope,
  type SnapshotRef,
  type Timestamp,
  timestampSchema,
} from "./metadata.ts";
import { readMirrorState } from "./mirror_state.ts";
import { type Diff, diffSource, snapshotSource } from "./publish_diff.ts";
import { keptDeltas, MAX_MANIFEST_DELTAS, prune } from "./publish_prune.ts";
import { catchUp, readFeedRoot, readOwnCurrent } from "./publish_state.ts";
import type { SigningKey } from "./signing.ts";
import { SyncError } from "./sync_error.ts";

export { MAX_MANIFEST_DELTAS } from "./publish_prune.ts";
export { type FeedVersion, readCurrent, readFeedRoot } from "./publish_state.ts";

/** What a build needs. */
export interface BuildOptions {
  /** The feed tree (served as plain files). */
  out: string;
  /** The publisher's state database (migrated pksn database). */
  state: DatabaseSync;
  /** The database whose mirror rows become version N+1; it is only read. */
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
  /**
   * At most this many deltas in the manifest (default {@link MAX_MANIFEST_DELTAS}):
   * the oldest go first, and a snapshot comes early if the deltas after the last
   * one would not fit.
   */
  maxDeltas?: number;
  /** For tests: runs after the diff pass, before the snapshot pass, in the source's transaction. */
  afterDiff?: () => Promise<void> | void;
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

const encoder = new TextEncoder();

/**
 * Writes a content-addressed file: through a temporary name, then renamed to
 * `nameOf(sha256)` and the folder synced, so a power cut cannot lose the rename
 * after the timestamp that names the file has been written.
 */
async function writeNamed(
  out: string,
  file: { temp: string; chunks: Iterable<Uint8Array>; nameOf: (sha256: string) => string },
): Promise<FileRef> {
  const temp = join(out, file.temp);
  const written = await writeFileAtomic(temp, file.chunks);
  const name = file.nameOf(written.sha256);
  const path = join(out, name);
  await Deno.rename(temp, path);
  await syncDir(dirname(path));
  return { name, ...written };
}

function checkKeys(root: Root, keys: SigningKey[]): void {
  const missing = keys.filter((k) => !root.roles.timestamp.keyids.includes(k.keyid));
  if (missing.length) {
    throw new SyncError(
      "wrong_key",
      `Key ${
        missing[0].keyid.slice(0, 16)
      }… is not a timestamp key of root version ${root.version}`,
    );
  }
}

/** What a build writes besides the metadata. */
interface DataFiles {
  diff: Diff;
  /** Null for version 1. */
  deltaRef: DeltaRef | null;
  /** The new snapshot, or the previous manifest's. */
  snapshotRef: SnapshotRef;
}

/** The diff pass, the delta, then the snapshot pass and the snapshot when one is due. */
async function writeData(
  options: BuildOptions,
  build: { previous?: Manifest; version: number; created: string; wantSnapshot: boolean },
): Promise<DataFiles> {
  const { out, state, source } = options;
  const { previous, version, created } = build;
  const hasher = new RowHasher();
  const baseChecksum = readMirrorState(state).checksum;
  const diff = diffSource(state, source, { baseChecksum, hasher });
  const { checksum } = diff;
  let deltaRef: DeltaRef | null = null;
  if (previous) {
    const file = await writeNamed(out, {
      temp: `deltas/.build-${version}`,
      chunks: diff.delta.finish({ version, fromVersion: version - 1, baseChecksum, checksum }),
      nameOf: (sha256) => `deltas/${version - 1}-${version}.${sha256}.bin`,
    });
    const records = diff.delta.records;
    deltaRef = { ...file, from: version - 1, to: version, records, checksum, created };
  }
  await options.afterDiff?.();
  if (!build.wantSnapshot && previous) return { diff, deltaRef, snapshotRef: previous.snapshot };
  const snapshot = snapshotSource(source, { version, checksum, hasher });
  const file = await writeNamed(out, {
    temp: `snapshots/.build-${version}`,
    chunks: snapshot.chunks,
    nameOf: (sha256) => `snapshots/${version}.${sha256}.bin`,
  });
  return { diff, deltaRef, snapshotRef: { ...file, version, records: snapshot.records, checksum } };
}

/** Builds version N+1. */
export async function buildVersion(options: BuildOptions): Promise<BuildReport> {
  const { out, state, source, now } = options;
  const maxDeltas = options.maxDeltas ?? MAX_MANIFEST_DELTAS;
  const root = await readFeedRoot(out);
  checkKeys(root, options.timestampKeys);
  const current = await readOwnCurrent(out, root);
  if (current) {
    await catchUp(state, {
      out,
      manifest: current.manifest,
      expires: Date.parse(current.timestamp.expires),
    });
  } else if (readMirrorState(state).version !== 0) {
    throw new SyncError(
      "publisher_state_ahead",
      "The feed tree has no timestamp.json but the publisher state has published versions; " +
        "use the state database that belongs to this tree, or a new one",
    );
  }
  const previous = current?.manifest;
  const version = (previous?.version ?? 0) + 1;
  const created = new Date(now).toISOString();
  // Deltas after the snapshot must all fit in the manifest, or nodes there could not follow.
  const sinceSnapshot = previous ? version - previous.snapshot.version : 0;
  const wantSnapshot = !previous || sinceSnapshot >= options.snapshotEvery ||
    sinceSnapshot > maxDeltas;

  const { diff, deltaRef, snapshotRef } = await withReadTransaction(
    source,
    () => writeData(options, { previous, version, created, wantSnapshot }),
  );

  const manifest = checkSchema<Manifest>(
    {
      type: "manifest",
      version,
      created,
      counts: diff.counts,
      checksum: diff.checksum,
      snapshot: snapshotRef,
      deltas: keptDeltas([...(previous?.deltas ?? []), ...(deltaRef ? [deltaRef] : [])], {
        snapshotVersion: snapshotRef.version,
        retainAfter: now - options.deltaRetentionSeconds * 1000,
        max: maxDeltas,
      }),
    },
    manifestSchema,
    `The manifest of version ${version}`,
  );
  const manifestRef = await writeNamed(out, {
    temp: `manifests/.build-${version}`,
    chunks: [encoder.encode(canonicalJson(manifest))],
    nameOf: (sha256) => `manifests/${version}.${sha256}.json`,
  });

  const timestamp = checkSchema<Timestamp>(
    {
      type: "timestamp",
      version,
      expires: new Date(now + options.expiresSeconds * 1000).toISOString(),
      manifest: manifestRef,
      minPollSeconds: options.minPollSeconds,
    },
    timestampSchema,
    `The timestamp of version ${version}`,
  );
  const envelope: Envelope<Timestamp> = await signEnvelope(timestamp, options.timestampKeys);
  await writeFileAtomic(join(out, TIMESTAMP_FILE), [
    encoder.encode(JSON.stringify(envelope, null, 1) + "\n"),
  ]);

  const pruned = await prune(out, {
    manifests: previous ? [manifest, previous] : [manifest],
    manifestNames: [manifestRef.name, current?.timestamp.manifest.name]
      .filter((n): n is string => n !== undefined),
  });
  // The state follows the tree, read back from the files just written.
  await catchUp(state, { out, manifest, expires: Date.parse(timestamp.expires) });
  return {
    version,
    records: diff.records,
    added: diff.added,
    updated: diff.updated,
    removed: diff.removed,
    snapshot: wantSnapshot,
    checksum: diff.checksum,
    deltaBytes: deltaRef?.length ?? null,
    snapshotBytes: wantSnapshot ? snapshotRef.length : null,
    pruned,
  };
}
