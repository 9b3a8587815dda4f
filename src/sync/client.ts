/**
 * One sync run: follow the root chain, read the signed timestamp, fetch and
 * check the manifest, then bring the mirror to its version by deltas or, when
 * that cannot work, by the full snapshot. Every file is checked against its
 * signed hash and length before it is read; the mirror moves only by whole,
 * verified versions. Serving nodes also keep a verified copy of the tree for
 * their downstream nodes, and publish its timestamp last.
 */
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "../log.ts";
import { applyDelta, applySnapshot, dropUnfinishedSnapshot } from "./apply.ts";
import {
  checkFile,
  feedPath,
  readTextIfExists,
  ROOT_FILE,
  rootFile,
  TIMESTAMP_FILE,
  writeFileAtomic,
} from "./feed_files.ts";
import type { FeedSource } from "./feed_source.ts";
import {
  type FileRef,
  isExpired,
  type Manifest,
  manifestSchema,
  parseEnvelope,
  parseJson,
  type Root,
  rootSchema,
  timestampSchema,
  verifyNextRoot,
  verifyRole,
} from "./metadata.ts";
import { readMirrorState, readSyncStatus } from "./mirror_state.ts";
import { fileSource, StreamReader } from "./record_stream.ts";
import { SyncError } from "./sync_error.ts";

/** Largest accepted timestamp.json or root.N.json. */
export const MAX_METADATA_BYTES = 64 * 1024;
/** Largest accepted manifest. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** The folders a node keeps for syncing, under its data folder. */
export function syncPaths(dataDir: string): { staging: string; served: string; root: string } {
  const base = join(dataDir, "sync");
  return {
    staging: join(base, "staging"),
    served: join(base, "feed"),
    root: join(base, "root.json"),
  };
}

/** What a run needs. */
export interface SyncRunDeps {
  /** A connection of its own: a delta's transaction stays open across pauses. */
  db: DatabaseSync;
  source: FeedSource;
  dataDir: string;
  /** The text of the root.json shipped in the node's configuration. */
  shippedRoot: string;
  now: () => number;
  log: Logger;
  /** Largest data file accepted. */
  maxFileBytes: number;
  /** Keep a verified copy of the tree to serve at /feed/. */
  serveFeed: boolean;
  /** Awaited between apply batches. */
  pause?: () => Promise<void>;
  /** Called once a timestamp passed its signature, rollback and expiry checks. */
  onTimestamp?: (version: number) => void;
  /** Called after each applied file (the server refreshes its index). */
  onApplied?: (kind: "snapshot" | "delta", version: number) => Promise<void> | void;
}

/** What a run did. */
export interface SyncRunResult {
  /** `current`: nothing newer; `updated`: the mirror moved. */
  outcome: "current" | "updated";
  from: number;
  to: number;
  /** The upstream's version. */
  upstream: number;
  /** How the mirror got there. */
  via: ("snapshot" | "delta")[];
  /** Why a delta path was given up for the snapshot, if it was. */
  fellBack: string | null;
  /** The publisher's minimum time between polls. */
  minPollSeconds: number;
}

/** Reads the trusted root: the newest one stored, else the shipped one. */
async function trustedRoot(deps: SyncRunDeps, rootPath: string): Promise<Root> {
  const shipped = parseEnvelope(deps.shippedRoot, rootSchema, "the configured sync.root");
  await verifyRole(shipped, shipped.signed, "root", "the configured sync.root");
  const storedText = await readTextIfExists(rootPath);
  if (storedText === null) return shipped.signed;
  const stored = parseEnvelope(storedText, rootSchema, rootPath).signed;
  return stored.version >= shipped.signed.version ? stored : shipped.signed;
}

/** Follows root.N+1.json, root.N+2.json … as far as the source has them. */
async function updateRoot(deps: SyncRunDeps, root: Root, rootPath: string): Promise<Root> {
  for (;;) {
    const name = rootFile(root.version + 1);
    const text = await deps.source.text(name, MAX_METADATA_BYTES);
    if (text === null) break;
    const next = await verifyNextRoot(root, parseEnvelope(text, rootSchema, name), name);
    await writeFileAtomic(rootPath, [new TextEncoder().encode(text)]);
    if (deps.serveFeed) {
      const served = syncPaths(deps.dataDir).served;
      await writeFileAtomic(join(served, name), [new TextEncoder().encode(text)]);
      await writeFileAtomic(join(served, ROOT_FILE), [new TextEncoder().encode(text)]);
    }
    deps.log.info(`Root keys rotated to version ${next.version}`);
    root = next;
  }
  if (isExpired(root.expires, deps.now())) {
    throw new SyncError(
      "root_expired",
      `Root version ${root.version} expired at ${root.expires}; the publisher must rotate the root`,
    );
  }
  return root;
}

/**
 * Runs one sync. Throws a {@link SyncError}; the mirror then stays at a whole
 * version. Runs in other processes (a cron `pksn sync` beside a serving node)
 * wait for this one: the lock file is released by the OS even on `kill -9`.
 */
export async function syncOnce(deps: SyncRunDeps): Promise<SyncRunResult> {
  const paths = syncPaths(deps.dataDir);
  await Deno.mkdir(paths.staging, { recursive: true });
  const lock = await Deno.open(join(paths.staging, "..", "lock"), {
    read: true,
    write: true,
    create: true,
  });
  try {
    await lock.lock(true);
    // Under the lock no other run is building a snapshot: what is left is a killed one's.
    dropUnfinishedSnapshot(deps.db);
    return await syncLocked(deps, paths);
  } finally {
    lock.close();
  }
}

async function syncLocked(
  deps: SyncRunDeps,
  paths: ReturnType<typeof syncPaths>,
): Promise<SyncRunResult> {
  const root = await updateRoot(deps, await trustedRoot(deps, paths.root), paths.root);

  const timestampText = await deps.source.text(TIMESTAMP_FILE, MAX_METADATA_BYTES);
  if (timestampText === null) {
    throw new SyncError("missing_file", `${deps.source.label} has no ${TIMESTAMP_FILE}`);
  }
  const envelope = parseEnvelope(timestampText, timestampSchema, TIMESTAMP_FILE);
  await verifyRole(envelope, root, "timestamp", TIMESTAMP_FILE);
  const timestamp = envelope.signed;
  const mirror = readMirrorState(deps.db);
  const status = readSyncStatus(deps.db);
  const known = Math.max(mirror.version, status.seenVersion);
  if (timestamp.version < known) {
    throw new SyncError(
      "rollback",
      `${TIMESTAMP_FILE} offers version ${timestamp.version}, older than version ${known} ` +
        "this node has already seen: a replayed or rolled-back pointer, refused",
    );
  }
  if (isExpired(timestamp.expires, deps.now())) {
    throw new SyncError(
      "expired",
      `${TIMESTAMP_FILE} (version ${timestamp.version}) expired at ${timestamp.expires}: ` +
        "the publisher has stopped signing or the feed is being frozen; refused",
    );
  }
  deps.onTimestamp?.(timestamp.version);
  const result: SyncRunResult = {
    outcome: "current",
    from: mirror.version,
    to: mirror.version,
    upstream: timestamp.version,
    via: [],
    fellBack: null,
    minPollSeconds: timestamp.minPollSeconds,
  };
  const expires = Date.parse(timestamp.expires);
  if (timestamp.version === mirror.version) {
    if (deps.serveFeed) {
      const current = await fetchManifest(deps, timestamp.manifest, timestamp.version);
      await publishServed(deps, timestampText, current);
    }
    return result;
  }

  const manifest = await fetchManifest(deps, timestamp.manifest, timestamp.version);
  const plan = deltaChain(manifest, mirror.version);
  if (plan !== null && plan.length > 0) {
    try {
      for (const delta of plan) {
        await applyFile(deps, delta, "delta", expires);
        result.via.push("delta");
      }
    } catch (err) {
      if (!(err instanceof SyncError) || !FALL_BACK.has(err.code)) throw err;
      // A missing delta is only worked around by a snapshot past it; an older one
      // would take the mirror back and then need the same missing delta again.
      const at = readMirrorState(deps.db).version;
      if (err.code === "missing_file" && manifest.snapshot.version <= at) {
        throw new SyncError(
          "missing_delta",
          `${err.message}; the feed's snapshot (version ${manifest.snapshot.version}) is not ` +
            `newer than this mirror (version ${at}), so the mirror stays at ${at} until the ` +
            "publisher serves the delta or a newer snapshot",
          { cause: err },
        );
      }
      result.fellBack = `${err.code}: ${err.message}`;
      deps.log.warn(`Falling back to the full snapshot: ${err.message}`, { reason: err.code });
    }
  }
  if (readMirrorState(deps.db).version !== manifest.version) {
    await applyFile(deps, manifest.snapshot, "snapshot", expires);
    result.via.push("snapshot");
    const rest = deltaChain(manifest, manifest.snapshot.version);
    if (rest === null) {
      throw new SyncError(
        "missing_delta",
        `The manifest lacks deltas from the snapshot (version ${manifest.snapshot.version}) ` +
          `to version ${manifest.version}`,
      );
    }
    for (const delta of rest) {
      await applyFile(deps, delta, "delta", expires);
      result.via.push("delta");
    }
  }
  result.outcome = "updated";
  result.to = manifest.version;
  if (deps.serveFeed) await publishServed(deps, timestampText, manifest);
  await clearStaging(paths.staging);
  return result;
}

// A delta path that fails for these reasons can still end well through the snapshot.
const FALL_BACK: ReadonlySet<string> = new Set([
  "missing_file",
  "wrong_base",
  "checksum_mismatch",
]);

/** The deltas from `from` to the manifest's version, or null when one is missing. */
function deltaChain(manifest: Manifest, from: number): Manifest["deltas"] | null {
  if (from === 0) return null;
  const byFrom = new Map(manifest.deltas.map((d) => [d.from, d]));
  const chain = [];
  for (let at = from; at < manifest.version;) {
    const delta = byFrom.get(at);
    if (delta === undefined) return null;
    chain.push(delta);
    at = delta.to;
  }
  return chain;
}

async function fetchVerified(deps: SyncRunDeps, ref: FileRef, maxBytes: number): Promise<string> {
  if (ref.length > maxBytes) {
    throw new SyncError(
      "too_large",
      `${ref.name} is ${ref.length} bytes; at most ${maxBytes} are accepted (sync.maxFileMiB)`,
    );
  }
  const { staging, served } = syncPaths(deps.dataDir);
  const path = join(staging, ref.sha256);
  // A copy already verified and kept for downstream nodes needs no download.
  const kept = feedPath(served, ref.name);
  if (deps.serveFeed && await exists(kept)) {
    try {
      await checkFile(kept, ref);
      return kept;
    } catch { /* damaged: fetch it again */ }
  }
  if (!(await exists(path))) await deps.source.fetch(ref, path);
  try {
    await checkFile(path, ref);
  } catch (err) {
    await Deno.remove(path).catch(() => {});
    throw err;
  }
  return path;
}

async function fetchManifest(deps: SyncRunDeps, ref: FileRef, version: number): Promise<Manifest> {
  const path = await fetchVerified(deps, ref, MAX_MANIFEST_BYTES);
  const manifest = parseJson(await Deno.readTextFile(path), manifestSchema, ref.name);
  if (manifest.version !== version) {
    throw new SyncError(
      "invalid_metadata",
      `${ref.name} describes version ${manifest.version}, but the timestamp points it at ${version}`,
    );
  }
  return manifest;
}

async function applyFile(
  deps: SyncRunDeps,
  ref: Manifest["snapshot"] | Manifest["deltas"][number],
  kind: "snapshot" | "delta",
  expires: number,
): Promise<void> {
  const path = await fetchVerified(deps, ref, deps.maxFileBytes);
  const file = await Deno.open(path, { read: true });
  const started = performance.now();
  let header;
  try {
    const reader = new StreamReader(fileSource(file), ref.name);
    header = reader.header;
    const to = "to" in ref ? ref.to : ref.version;
    if (header.kind !== kind || header.version !== to || header.checksum !== ref.checksum) {
      throw new SyncError(
        "invalid_feed",
        `${ref.name} holds a ${header.kind} to version ${header.version}, not what the manifest says`,
      );
    }
    deps.log.info(`Applying ${kind} ${ref.name}`, { records: header.records });
    if (kind === "snapshot") await applySnapshot(deps.db, reader, { expires, pause: deps.pause });
    else await applyDelta(deps.db, reader, { expires, pause: deps.pause });
  } finally {
    file.close();
  }
  deps.log.info(`Mirror is at version ${header.version}`, {
    via: kind,
    records: header.records,
    millis: Math.round(performance.now() - started),
  });
  await deps.onApplied?.(kind, header.version);
}

/**
 * Makes the served copy complete for the manifest (every file it names), then
 * publishes the timestamp exactly as signed, then prunes what no manifest needs.
 */
async function publishServed(
  deps: SyncRunDeps,
  timestampText: string,
  manifest: Manifest | null,
): Promise<void> {
  const { served, staging } = syncPaths(deps.dataDir);
  if (manifest !== null) {
    const envelope = parseEnvelope(timestampText, timestampSchema, TIMESTAMP_FILE);
    const refs: FileRef[] = [envelope.signed.manifest, manifest.snapshot, ...manifest.deltas];
    for (const ref of refs) {
      const target = feedPath(served, ref.name);
      if (await exists(target)) {
        // Re-checked every run, so a copy damaged on disk is replaced, not served on.
        try {
          await checkFile(target, ref);
          continue;
        } catch (err) {
          deps.log.warn(
            `Replacing the damaged served copy of ${ref.name}: ${(err as Error).message}`,
          );
          await Deno.remove(target);
        }
      }
      const path = await fetchVerified(deps, ref, Math.max(deps.maxFileBytes, MAX_MANIFEST_BYTES));
      await Deno.mkdir(join(target, ".."), { recursive: true });
      if (path.startsWith(staging)) await Deno.rename(path, target);
    }
    await pruneServed(served, manifest, envelope.signed.manifest.name);
  }
  const rootText = await readTextIfExists(syncPaths(deps.dataDir).root) ?? deps.shippedRoot;
  if (await readTextIfExists(join(served, ROOT_FILE)) === null) {
    const root = parseEnvelope(rootText, rootSchema, ROOT_FILE).signed;
    await writeFileAtomic(join(served, rootFile(root.version)), [
      new TextEncoder().encode(rootText),
    ]);
    await writeFileAtomic(join(served, ROOT_FILE), [new TextEncoder().encode(rootText)]);
  }
  await writeFileAtomic(join(served, TIMESTAMP_FILE), [new TextEncoder().encode(timestampText)]);
}

async function pruneServed(
  served: string,
  manifest: Manifest,
  manifestName: string,
): Promise<void> {
  // Keep what the previous manifest named too: a downstream node may be mid-way through it.
  const previousText = await readTextIfExists(join(served, TIMESTAMP_FILE));
  const wanted = new Set([
    manifestName,
    manifest.snapshot.name,
    ...manifest.deltas.map((d) => d.name),
  ]);
  if (previousText !== null) {
    try {
      const prevRef = parseEnvelope(previousText, timestampSchema, TIMESTAMP_FILE).signed.manifest;
      wanted.add(prevRef.name);
      const prev = parseJson(
        await Deno.readTextFile(feedPath(served, prevRef.name)),
        manifestSchema,
        prevRef.name,
      );
      wanted.add(prev.snapshot.name);
      for (const d of prev.deltas) wanted.add(d.name);
    } catch { /* nothing more to keep */ }
  }
  for (const folder of ["manifests", "snapshots", "deltas"]) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(join(served, folder))];
    } catch {
      continue;
    }
    for (const entry of entries) {
      const name = `${folder}/${entry.name}`;
      if (entry.isFile && !wanted.has(name)) await Deno.remove(join(served, name)).catch(() => {});
    }
  }
}

async function clearStaging(staging: string): Promise<void> {
  for await (const entry of Deno.readDir(staging)) {
    // Partial downloads stay for the next run to resume.
    if (entry.isFile && !entry.name.endsWith(".part")) {
      await Deno.remove(join(staging, entry.name)).catch(() => {});
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
