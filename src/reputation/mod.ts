/** Reputation: object types, normalisation, matching and the look-up service. */
export { canonicalValue } from "./canonical.ts";
export { IndexKeeper, type SavedIndex } from "./index_keeper.ts";
export { decodeKey, fnv1a, keyPrefix, TYPE_BYTE } from "./keys.ts";
export { type IndexHolder, type LookupItem, type LookupItemError, Reputation } from "./lookup.ts";
export {
  expireOverrides,
  LocalOverrides,
  type LocalOverridesDeps,
  type OverrideFilter,
  type OverrideView,
} from "./overrides.ts";
export {
  MAX_REASON,
  OVERRIDE_VERDICTS,
  type OverrideAdd,
  overrideAddSchema,
  type OverrideEdit,
  overrideEditSchema,
  type OverrideListOptions,
  overrideListSchema,
  type OverrideTarget,
  overrideTargetSchema,
  type OverrideVerdict,
} from "./override_rules.ts";
export { describeIssue, RECORD_LIMITS, recordRows, recordSchema } from "./records.ts";
export { buildIndex, type ReputationIndex, saveIndexForNextStart } from "./reputation_index.ts";
export { NetworkList } from "./networks.ts";
export { type ObjectType, type Verdict, VERDICTS } from "./types.ts";
export * from "./types.ts";
