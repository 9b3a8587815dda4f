/**
 * The signed feed format (metadata, signatures, the record stream, the state checksum), applying
 * its versions to a database, and the publisher that writes it.
 */
export { applyDelta, applySnapshot, computeMirrorChecksum, dropUnfinishedApply } from "./apply.ts";
export {
  checkFile,
  feedPath,
  MAX_MANIFEST_BYTES,
  MAX_METADATA_BYTES,
  pathExists,
  readTextIfExists,
  ROOT_FILE,
  rootFile,
  TIMESTAMP_FILE,
  writeFileAtomic,
} from "./feed_files.ts";
export { initRoot, rotateRoot } from "./feed_root.ts";
export type { RoleKeys } from "./feed_root.ts";
export {
  isExpired,
  manifestSchema,
  parseEnvelope,
  parseJson,
  rootSchema,
  timestampSchema,
  verifyNextRoot,
  verifyRole,
} from "./metadata.ts";
export type { DeltaRef, FileRef, Manifest, Root, SnapshotRef } from "./metadata.ts";
export { readMirrorState, readSyncStatus, writeSyncStatus } from "./mirror_state.ts";
export type { MirrorState, SyncStatus } from "./mirror_state.ts";
export { buildVersion, MAX_MANIFEST_DELTAS, readCurrent, readFeedRoot } from "./publisher.ts";
export type { BuildReport } from "./publisher.ts";
export { generateKeyFile, parseKeyFile } from "./signing.ts";
export type { SigningKey } from "./signing.ts";
export { fileSource, StreamReader } from "./stream_reader.ts";
export { SyncError } from "./sync_error.ts";
