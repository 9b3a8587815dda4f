/** Reputation: object types, normalisation, matching and the look-up service. */
export { type IndexHolder, type LookupItem, type LookupItemError, Reputation } from "./lookup.ts";
export { buildIndex, type ReputationIndex } from "./reputation_index.ts";
export { decodeKey } from "./keys.ts";
export * from "./types.ts";
export { IndexKeeper } from "./index_keeper.ts";
export { fnv1a, keyPrefix, TYPE_BYTE } from "./keys.ts";
export { describeIssue, recordRows, recordSchema } from "./records.ts";
export { VERDICTS } from "./types.ts";
export type { ObjectType, Verdict } from "./types.ts";
