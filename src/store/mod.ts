/**
 * The node's database and files: opening SQLite, migrations, every table's statements, durable
 * files, TAR archives, the data folder's lock and permissions.
 */
export { AdminAccountRepository } from "./admin_accounts.ts";
export { appendAudit, type AuditFilter, readAudit } from "./audit.ts";
export { compactDatabase, type Compaction } from "./compact.ts";
export { tightenDataDir } from "./data_dir.ts";
export {
  openDatabase,
  readTransaction,
  readTransactionAsync,
  transaction,
  transactionAsync,
} from "./database.ts";
export {
  countByLead,
  distinctKeyTails,
  EntryRepository,
  type EntryRow,
  hasEntries,
  type Origin,
  ORIGIN_LOCAL,
  ORIGIN_MIRROR,
  scanKeyPrefixes,
} from "./entries.ts";
export { pathExists, syncDir } from "./files.ts";
export { bumpGeneration, type GenerationName, readGenerations } from "./generation.ts";
export { type HeldRow, ImportWriter, type StoredValues } from "./import_writer.ts";
export { integrityProblems } from "./integrity.ts";
export { countLicences, LicenceRepository, type LicenceWithParticipation } from "./licences.ts";
export { lockDataDir } from "./lock.ts";
export { migrate, SCHEMA_VERSION, schemaVersion } from "./migrations.ts";
export {
  type MirrorEntryRow,
  MirrorRowReader,
  mirrorRows,
  mirrorRowsByKey,
  MirrorRowWriter,
  type RowArray,
} from "./mirror_rows.ts";
export { dropUnfinishedApply, SnapshotTable } from "./mirror_tables.ts";
export { hasMeta, readMeta, writeMeta } from "./node_meta.ts";
export {
  type IndexFileHeader,
  indexFilePath,
  readIndexFile,
  writeIndexFile,
} from "./index_file.ts";
export { WriteStamp } from "./node_write_stamp.ts";
export { type OverrideNote, type OverrideRow, OverrideTable } from "./overrides.ts";
export {
  type ProxyCacheChanges,
  type ProxyCacheFilter,
  type ProxyCacheRow,
  ProxyCacheTable,
} from "./proxy_cache.ts";
export { withReadTransaction } from "./publish_source.ts";
export { chunkRange, type JournalRow, RpzJournal, type WinningRow, WinningRows } from "./rpz.ts";
export { type ListedSampleRow, SampleIndex } from "./sample_index.ts";
export { addStatement, currentStatement, getSetting, setSetting } from "./settings.ts";
export {
  Spool,
  SPOOL_KINDS,
  type SpoolEntry,
  type SpoolKind,
  type SpoolKindState,
  type SpoolTotals,
} from "./spool.ts";
export { CountsFile, removeCountFiles } from "./stat_counts.ts";
export { StatsReceivedRepository } from "./stats_received.ts";
export { archiveDamaged, readTar, type TarInput, writeTar } from "./tar.ts";
export type { DatabaseSync, StatementSync } from "node:sqlite";
