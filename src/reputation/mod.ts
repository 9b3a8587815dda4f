/** Reputation: object types, normalisation, matching and the look-up service. */
export { type IndexHolder, type LookupItem, type LookupItemError, Reputation } from "./lookup.ts";
export { buildIndex, type ReputationIndex } from "./reputation_index.ts";
export {
  formatFromName,
  type ImportFormat,
  importRecords,
  type ImportReport,
} from "../feeds/import.ts";
export { decodeKey } from "./keys.ts";
export * from "./types.ts";
