/**
 * What the node knows about its mirror and its sync, kept in the `meta` table
 * so that it commits with the data it describes and survives restarts.
 */
import { type DatabaseSync, readMeta, writeMeta } from "../store/mod.ts";
import { EMPTY_CHECKSUM } from "./checksum.ts";

/** The applied version of the mirror. Written only in the transaction that applies it. */
export interface MirrorState {
  /** 0 before the first sync. */
  version: number;
  checksum: string;
  /** The signed expiry of the timestamp this version came with (ms), or null. */
  expires: number | null;
}

/** How syncing has gone; written after every attempt. */
export interface SyncStatus {
  /** Highest timestamp version accepted; an older one is a replay. */
  seenVersion: number;
  /** The version the upstream offered at the last successful check. */
  upstreamVersion: number;
  lastAttempt: number | null;
  lastSuccess: number | null;
  consecutiveFailures: number;
  lastError: string | null;
}

const NAMES = {
  version: "mirror.version",
  checksum: "mirror.checksum",
  expires: "mirror.expires",
  status: "sync.status",
} as const;

/** The mirror's applied version, checksum and expiry. */
export function readMirrorState(db: DatabaseSync): MirrorState {
  const expires = readMeta(db, NAMES.expires);
  return {
    version: Number(readMeta(db, NAMES.version) ?? 0),
    checksum: readMeta(db, NAMES.checksum) ?? EMPTY_CHECKSUM,
    expires: expires === undefined ? null : Number(expires),
  };
}

/** Records a newly applied version; call inside the applying transaction. */
export function writeMirrorState(db: DatabaseSync, state: MirrorState): void {
  writeMeta(db, NAMES.version, String(state.version));
  writeMeta(db, NAMES.checksum, state.checksum);
  if (state.expires !== null) writeMeta(db, NAMES.expires, String(state.expires));
}

/** The sync status, with defaults before the first attempt. */
export function readSyncStatus(db: DatabaseSync): SyncStatus {
  const text = readMeta(db, NAMES.status);
  const fallback: SyncStatus = {
    seenVersion: 0,
    upstreamVersion: 0,
    lastAttempt: null,
    lastSuccess: null,
    consecutiveFailures: 0,
    lastError: null,
  };
  if (text === undefined) return fallback;
  try {
    return { ...fallback, ...JSON.parse(text) };
  } catch {
    return fallback;
  }
}

/** Stores the sync status. */
export function writeSyncStatus(db: DatabaseSync, status: SyncStatus): void {
  writeMeta(db, NAMES.status, JSON.stringify(status));
}
