/** Participation modes: what a client chose, and what the node itself does upstream. */

/** A client's choice, recorded with `POST /v1/participation`. */
export const CLIENT_MODES = [
  "with-statistics",
  "without-statistics",
  "save-statistics-to-file",
  "none",
] as const;
/** One of {@link CLIENT_MODES}. */
export type ClientMode = typeof CLIENT_MODES[number];

/** The node's own participation, set by the operator. */
export const NODE_MODES = [
  "do-not-participate",
  "with-statistics",
  "without-statistics",
  "save-statistics-to-file",
] as const;
/** One of {@link NODE_MODES}. */
export type NodeMode = typeof NODE_MODES[number];

/** Kinds of traffic that may leave the node for the upstream. */
export type UpstreamTraffic = "lookups" | "statistics" | "samples";

/**
 * What each node mode lets leave the node. With statistics: everything;
 * without statistics: look-ups only; save statistics to file: nothing (statistics
 * stay in local files); do not participate: nothing at all.
 */
export const UPSTREAM_ALLOWED: Readonly<Record<NodeMode, ReadonlySet<UpstreamTraffic>>> = {
  "with-statistics": new Set(["lookups", "statistics", "samples"]),
  "without-statistics": new Set(["lookups"]),
  "save-statistics-to-file": new Set(),
  "do-not-participate": new Set(),
};
