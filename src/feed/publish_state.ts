/**
 * What a publisher reads back from its own feed tree: the root, the current
 * version, and its state database caught up to that version after a build that
 * died between writing the timestamp and applying its own delta.
 */
import type { DatabaseSync } from "../store/mod.ts";
import { join } from "node:path";
import { quote } from "../core/mod.ts";
import { applyDelta, applySnapshot } from "./apply.ts";
import {
  checkFile,
  feedPath,
  readTextIfExists,
  ROOT_FILE,
  rootFile,
  TIMESTAMP_FILE,
} from "./feed_files.ts";
import {
  type Manifest,
  manifestSchema,
  parseEnvelope,
  parseJson,
  type Root,
  rootSchema,
  type Timestamp,
  timestampSchema,
  verifyRole,
} from "./metadata.ts";
import { readMirrorState } from "./mirror_state.ts";
import { fileSource, StreamReader } from "./stream_reader.ts";
import { SyncError } from "./sync_error.ts";

/** A feed version as its signed timestamp and its manifest give it. */
export interface FeedVersion {
  timestamp: Timestamp;
  manifest: Manifest;
}

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
export async function readCurrent(out: string, root: Root): Promise<FeedVersion | null> {
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
export async function readOwnCurrent(out: string, root: Root): Promise<FeedVersion | null> {
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

/** Where {@link catchUp} reads from. */
export interface CatchUpOptions {
  /** The feed tree. */
  out: string;
  /** The version to reach. */
  manifest: Manifest;
  /** The signed expiry (ms) recorded with the version. */
  expires: number;
}

async function applyFile(
  db: DatabaseSync,
  options: { out: string; name: string; kind: "snapshot" | "delta"; expires: number },
): Promise<void> {
  const { name, expires } = options;
  const file = await Deno.open(feedPath(options.out, name), { read: true });
  try {
    const reader = new StreamReader(fileSource(file), name);
    if (options.kind === "snapshot") await applySnapshot(db, reader, { expires });
    else await applyDelta(db, reader, { expires });
  } finally {
    file.close();
  }
}

/** Brings the state database up to the manifest's version from the files of the tree. */
export async function catchUp(state: DatabaseSync, options: CatchUpOptions): Promise<void> {
  const { out, manifest, expires } = options;
  let at = readMirrorState(state).version;
  if (at === manifest.version) return;
  if (at > manifest.version) {
    throw new SyncError(
      "publisher_state_ahead",
      `The publisher state is at version ${at} but the feed's timestamp is at ${manifest.version}; ` +
        "restore the feed tree or the state database from the same backup",
    );
  }
  const byFrom = new Map(manifest.deltas.map((d) => [d.from, d]));
  if (at < manifest.snapshot.version && !byFrom.has(at)) {
    await applyFile(state, { out, name: manifest.snapshot.name, kind: "snapshot", expires });
    at = manifest.snapshot.version;
  }
  while (at < manifest.version) {
    const delta = byFrom.get(at);
    if (delta === undefined) {
      throw new SyncError("missing_delta", `The feed tree lacks the delta from version ${at}`);
    }
    await applyFile(state, { out, name: delta.name, kind: "delta", expires });
    at = delta.to;
  }
}
