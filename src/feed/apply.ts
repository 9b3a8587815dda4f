/**
 * Applying snapshots and deltas to the mirror rows (origin 0) of a pksn
 * database; local overrides are never touched. Neither applier keeps a
 * transaction open while the event loop runs, and a crash anywhere leaves the
 * mirror at the old version or the new one, never between.
 */
export { applyDelta } from "./apply_delta.ts";
export { applySnapshot } from "./apply_snapshot.ts";
export { computeMirrorChecksum, RowHasher } from "./mirror_checksum.ts";
export type { ApplyOptions } from "./apply_options.ts";
