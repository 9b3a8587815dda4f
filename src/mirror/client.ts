/**
 * One sync run: follow the root chain, read the signed timestamp, fetch and
 * check the manifest, then bring the mirror to its version by deltas or, when
 * that cannot work, by the full snapshot. Every file is checked against its
 * signed hash and length before it is read; the mirror moves only by whole,
 * verified versions. Serving nodes also keep a verified copy of the tree for
 * their downstream nodes, and publish its timestamp last.
 *
 * Over 300 lines on purpose: one run's steps, in the order they happen, read best in one
 * file; split by step, each module would take the whole run's dependencies.
 */
import { join } from "node:path";
import { type DatabaseSync, dropUnfinishedApply } from "../store/mod.ts";
import { type Logger, quote } from "../core/mod.ts";
import {
  applyDelta,
  applySnapshot,
  type DeltaRef,
  type FileRef,
  fileSource,
  isExpired,
  type Manifest,
  manifestSchema,
  MAX_MANIFEST_BYTES,
  MAX_METADATA_BYTES,
  parseEnvelope,
  parseJson,
  readMirrorState,
  readSyncStatus,
  readTextIfExists,
  type SnapshotRef,
  StreamReader,
  SyncError,
  TIMESTAMP_FILE,
  timestampSchema,
  verifyRole,
} from "../feed/mod.ts";
import { ApplyWorker } from "./apply_worker.ts";
import { deltaChain, deltasAfterSnapshot, FALL_BACK } from "./delta_plan.ts";
import type { FeedSource } from "./feed_source.ts";
import { LoopStallMeter } from "./loop_stall.ts";
import { currentRoot } from "./root_chain.ts";
import { publishServed } from "./served_tree.ts";
import { pruneStaging, removeLeftoverBundles } from "./staging.ts";
import { verifiedCopy } from "./verified_copy.ts";

/**
 * Records a delta's check reads between two yields to the event loop: a few
 * milliseconds of work, so a serving node's look-ups wait at most that long
 * behind a chunk (the feed's default, 20,000, held the loop about 80 ms a chunk
 * for a delta into a 1M-record mirror). A snapshot keeps the default: each of
 * its chunks is a commit, and 4,000-record chunks made a 1M-record snapshot
 * about 60% slower.
 */
const DELTA_CHECK_BATCH = 4_000;

/** The apply worker's page cache: its connection lives only as long as one apply. */
const WORKER_CACHE_MIB = 64;

/** The folders a node keeps for syncing, under its data folder. */
export function syncPaths(dataDir: string): { staging: string; served: string; root: string } {
  const base = join(dataDir, "sync");
  return {
    staging: join(base, "staging"),
    served: join(base, "feed"),
    root: join(base, "root.json"),
  };
}

/** How far a run's current step is: a download in bytes, an apply in records. */
export interface SyncProgressEvent {
  step: "download" | "apply";
  /** The feed file the step works on. */
  name: string;
  done: number;
  total: number;
}

/** What a run needs. */
export interface SyncRunDeps {
  /** A connection of its own, so the apply's chunks never share a transaction with requests. */
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
  /**
   * The run's deadline (sync.deadlineSeconds), checked between steps: a file
   * being applied is finished, the next one is not started.
   */
  signal?: AbortSignal;
  /** Awaited between apply batches. */
  pause?: () => Promise<void>;
  /** Told how far an apply is, between its chunks. */
  onProgress?: (event: SyncProgressEvent) => void;
  /** Called when a failed delta path gives way to the snapshot, with the failure's code. */
  onFallback?: (reason: string) => void;
  /** Called once a timestamp passed its signature, rollback and expiry checks. */
  onTimestamp?: (version: number) => void;
  /** Called after each applied file, once it is committed. */
  onApplied?: (kind: "snapshot" | "delta", version: number) => Promise<void> | void;
  /**
   * Called once after the run's last applied file, also when the run then
   * fails (the server rebuilds its index once per run, not per file).
   */
  afterApplying?: () => Promise<void> | void;
}

/** A run's dependencies with the worker its applies run on (null: on this thread). */
type ApplyDeps = SyncRunDeps & { worker: ApplyWorker | null };

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

/** Throws `deadline` once the run's signal has fired. */
function checkDeadline(deps: SyncRunDeps, next: string): void {
  if (deps.signal?.aborted) {
    throw new SyncError(
      "deadline",
      `The sync run passed its deadline (sync.deadlineSeconds) before ${next}; ` +
        `the mirror stays at version ${readMirrorState(deps.db).version}`,
    );
  }
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
    dropUnfinishedApply(deps.db);
    await removeLeftoverBundles(paths.staging, deps.log);
    return await syncLocked(deps, paths);
  } finally {
    lock.close();
  }
}

async function syncLocked(
  deps: SyncRunDeps,
  paths: ReturnType<typeof syncPaths>,
): Promise<SyncRunResult> {
  const root = await currentRoot({
    source: deps.source,
    shippedRoot: deps.shippedRoot,
    rootPath: paths.root,
    served: deps.serveFeed ? paths.served : null,
    now: deps.now,
    log: deps.log,
  });

  const timestampText = await deps.source.text(TIMESTAMP_FILE, MAX_METADATA_BYTES);
  if (timestampText === null) {
    throw new SyncError("missing_file", `${deps.source.label} has no ${quote(TIMESTAMP_FILE)}`);
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
      `${quote(TIMESTAMP_FILE)} offers version ${timestamp.version}, older than version ${known} ` +
        "this node has already seen: a replayed or rolled-back pointer, refused",
    );
  }
  if (isExpired(timestamp.expires, deps.now())) {
    throw new SyncError(
      "expired",
      `${quote(TIMESTAMP_FILE)} (version ${timestamp.version}) expired at ${timestamp.expires}: ` +
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
      await finish(deps, paths, timestampText, current);
    }
    return result;
  }

  const manifest = await fetchManifest(deps, timestamp.manifest, timestamp.version);
  // Started before the files download, so the program loads on it meanwhile.
  // On a worker thread with a connection of its own, so the apply's write transaction does not
  // hold this thread's event loop; an in-memory database has no file the worker could open.
  const worker = deps.db.location() === null ? null : ApplyWorker.start();
  try {
    await applyVersions({ ...deps, worker }, manifest, result, expires);
  } catch (err) {
    // What did commit is still worth the refresh; the run's own error is the one to report.
    if (result.via.length > 0) {
      try {
        await deps.afterApplying?.();
      } catch (refreshErr) {
        deps.log.error(`Cannot refresh after applying: ${(refreshErr as Error).message}`);
      }
    }
    throw err;
  } finally {
    worker?.close();
  }
  await deps.afterApplying?.();
  result.outcome = "updated";
  result.to = manifest.version;
  await finish(deps, paths, timestampText, manifest);
  return result;
}

/** Brings the mirror to the manifest's version: by deltas, else through the snapshot. */
async function applyVersions(
  deps: ApplyDeps,
  manifest: Manifest,
  result: SyncRunResult,
  expires: number,
): Promise<void> {
  const plan = deltaChain(manifest, result.from);
  let cause: SyncError | null = null;
  if (plan !== null && plan.length > 0) {
    try {
      for (const delta of plan) {
        await applyFile(deps, delta, "delta", expires);
        result.via.push("delta");
      }
    } catch (err) {
      if (!(err instanceof SyncError) || !FALL_BACK.has(err.code)) throw err;
      cause = err;
    }
  }
  const at = readMirrorState(deps.db).version;
  if (at !== manifest.version) {
    const rest = deltasAfterSnapshot(manifest, at, cause, deps.log);
    if (cause !== null) {
      result.fellBack = `${cause.code}: ${cause.message}`;
      deps.log.warn(`Falling back to the full snapshot: ${cause.message}`, { reason: cause.code });
      deps.onFallback?.(cause.code);
    }
    await applyFile(deps, manifest.snapshot, "snapshot", expires);
    result.via.push("snapshot");
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
}

/** After a successful run: the served copy (on serving nodes), then a tidy staging folder. */
async function finish(
  deps: SyncRunDeps,
  paths: ReturnType<typeof syncPaths>,
  timestampText: string,
  manifest: Manifest,
): Promise<void> {
  if (deps.serveFeed) {
    checkDeadline(deps, "publishing the served copy");
    await publishServed(
      {
        served: paths.served,
        staging: paths.staging,
        rootText: await readTextIfExists(paths.root) ?? deps.shippedRoot,
        log: deps.log,
        fetchVerified: (ref) =>
          fetchVerified(deps, ref, Math.max(deps.maxFileBytes, MAX_MANIFEST_BYTES)),
      },
      timestampText,
      manifest,
    );
  }
  const timestamp = parseEnvelope(timestampText, timestampSchema, TIMESTAMP_FILE).signed;
  const named = [timestamp.manifest, manifest.snapshot, ...manifest.deltas];
  await pruneStaging(paths.staging, new Set(named.map((ref) => ref.sha256)));
}

function fetchVerified(deps: SyncRunDeps, ref: FileRef, maxBytes: number): Promise<string> {
  const { staging, served } = syncPaths(deps.dataDir);
  return verifiedCopy(
    { source: deps.source, staging, served: deps.serveFeed ? served : null },
    ref,
    maxBytes,
  );
}

async function fetchManifest(deps: SyncRunDeps, ref: FileRef, version: number): Promise<Manifest> {
  checkDeadline(deps, `fetching ${quote(ref.name)}`);
  const path = await fetchVerified(deps, ref, MAX_MANIFEST_BYTES);
  const manifest = parseJson(await Deno.readTextFile(path), manifestSchema, ref.name);
  if (manifest.version !== version) {
    throw new SyncError(
      "invalid_metadata",
      `${quote(ref.name)} describes version ${manifest.version}, but the timestamp points it ` +
        `at version ${version}`,
    );
  }
  return manifest;
}

/** Why a file's stream header disagrees with the manifest's entry for it, or null. */
function headerMismatch(
  header: StreamReader["header"],
  ref: SnapshotRef | DeltaRef,
  kind: "snapshot" | "delta",
): string | null {
  const name = quote(ref.name);
  if (header.kind !== kind) return `${name} holds a ${header.kind}; the manifest lists a ${kind}`;
  const to = "to" in ref ? ref.to : ref.version;
  if (header.version !== to) {
    return `${name} leads to version ${header.version}; the manifest says ${to}`;
  }
  if ("from" in ref && header.fromVersion !== ref.from) {
    return `${name} starts from version ${header.fromVersion}; the manifest says ${ref.from}`;
  }
  if (header.checksum !== ref.checksum) {
    return `${name} ends at checksum ${header.checksum}; the manifest says ${ref.checksum}`;
  }
  return null;
}

async function applyFile(
  deps: ApplyDeps,
  ref: SnapshotRef | DeltaRef,
  kind: "snapshot" | "delta",
  expires: number,
): Promise<void> {
  checkDeadline(deps, `applying ${quote(ref.name)}`);
  const path = await fetchVerified(deps, ref, deps.maxFileBytes);
  const file = await Deno.open(path, { read: true });
  const started = performance.now();
  // Logged with the apply, so an operator (and the bench) sees what look-ups waited behind it.
  const stall = new LoopStallMeter();
  stall.start();
  let header;
  let stallMillis = 0;
  let thread = "main";
  try {
    const reader = new StreamReader(fileSource(file), ref.name);
    header = reader.header;
    const mismatch = headerMismatch(header, ref, kind);
    if (mismatch !== null) throw new SyncError("invalid_feed", mismatch);
    deps.log.info(`Applying ${kind} ${quote(ref.name)}`, { records: header.records });
    const total = header.records;
    const database = deps.db.location();
    const applied = deps.worker !== null && database !== null &&
      await deps.worker.apply(
        { database, path, name: ref.name, kind, expires, cacheMiB: WORKER_CACHE_MIB },
        (done) => deps.onProgress?.({ step: "apply", name: ref.name, done, total }),
      );
    if (applied) thread = "worker";
    else {
      if (deps.worker?.unavailable) {
        deps.log.warn(
          `Cannot apply on a worker thread, applying on this one in chunks: ${deps.worker.unavailable}`,
        );
      }
      const pause = async (): Promise<void> => {
        deps.onProgress?.({ step: "apply", name: ref.name, done: reader.recordsRead, total });
        await deps.pause?.();
      };
      if (kind === "snapshot") await applySnapshot(deps.db, reader, { expires, pause });
      else await applyDelta(deps.db, reader, { expires, pause, batch: DELTA_CHECK_BATCH });
    }
  } finally {
    stallMillis = stall.stop();
    file.close();
  }
  deps.log.info(`Mirror is at version ${header.version}`, {
    via: kind,
    records: header.records,
    millis: Math.round(performance.now() - started),
    stallMillis,
    thread,
  });
  await deps.onApplied?.(kind, header.version);
}
