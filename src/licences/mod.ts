/** Licences: keys, client authentication, participation and the KSN Statement. */
export { type ClientLicence, LicenceAuthenticator } from "./auth.ts";
export { isoSeconds, parseDate, parseDuration } from "./dates.ts";
export { generateKey, normalizeKey } from "./keys.ts";
export { parseModes, parseQuota, readLicenceCsv, readLicenceCsvStream } from "./licence_csv.ts";
export {
  type AuditEntry,
  effectiveExpiry,
  EXPIRING_SECONDS,
  LICENCE_STATES,
  type LicenceChanges,
  type LicenceFilter,
  LicenceService,
  type LicenceState,
  type LicenceView,
  type NewLicence,
} from "./licence_service.ts";
export {
  CLIENT_MODES,
  type ClientMode,
  NODE_MODES,
  type NodeMode,
  type UpstreamTraffic,
} from "./modes.ts";
export { NodeParticipation, type NodeParticipationState } from "./participation.ts";
export { loadOrCreateSecret } from "./secret.ts";
export { ensureStatement, publishStatement, readStatement, type Statement } from "./statement.ts";
