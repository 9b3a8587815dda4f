/**
 * The node's database and files: opening SQLite, migrations, every table's statements, durable
 * files, TAR archives, the data folder's lock and permissions.
 */
export { appendAudit, readAudit } from "./audit.ts";
export { tightenDataDir } from "./data_dir.ts";
export { openDatabase, transaction } from "./database.ts";
export {
  countByLead,
  distinctKeyTails,
  EntryRepository,
  ORIGIN_LOCAL,
  ORIGIN_MIRROR,
  scanKeyPrefixes,
} from "./entries.ts";
export type { EntryRow, Origin } from "./entries.ts";
export { pathExists, syncDir } from "./files.ts";
export { bumpGeneration, readGenerations } from "./generation.ts";
export type { GenerationName } from "./generation.ts";
export { ImportWriter } from "./import_writer.ts";
export type { HeldRow, StoredValues } from "./import_writer.ts";
export { LicenceRepository } from "./licences.ts";
export type { LicenceWithParticipation } from "./licences.ts";
export { lockDataDir } from "./lock.ts";
export { migrate, SCHEMA_VERSION, schemaVersion } from "./migrations.ts";
export { addStatement, currentStatement, getSetting, setSetting } from "./settings.ts";
export { Spool, SPOOL_KINDS } from "./spool.ts";
export type { SpoolEntry, SpoolKind } from "./spool.ts";
export { StatsReceivedRepository } from "./stats_received.ts";
export { archiveDamaged, readTar, writeTar } from "./tar.ts";
export type { TarInput } from "./tar.ts";
