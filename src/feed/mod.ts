/**
 * The signed feed format (metadata, signatures, the record stream, the state checksum), applying
 * its versions to a database, and the publisher that writes it.
 */
export { applyDelta, applySnapshot, computeMirrorChecksum } from "./apply.ts";
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
export { initRoot, type RoleKeys, rotateRoot } from "./feed_root.ts";
export {
  type DeltaRef,
  type FileRef,
  isExpired,
  type Manifest,
  manifestSchema,
  parseEnvelope,
  parseJson,
  type Root,
  rootSchema,
  type SnapshotRef,
  timestampSchema,
  verifyNextRoot,
  verifyRole,
} from "./metadata.ts";
export {
  type MirrorState,
  readMirrorState,
  readSyncStatus,
  type SyncStatus,
  writeSyncStatus,
} from "./mirror_state.ts";
export {
  type BuildReport,
  buildVersion,
  MAX_MANIFEST_DELTAS,
  readCurrent,
  readFeedRoot,
} from "./publisher.ts";
export { generateKeyFile, parseKeyFile, type SigningKey } from "./signing.ts";
export { fileSource, StreamReader } from "./stream_reader.ts";
export { SyncError } from "./sync_error.ts";
