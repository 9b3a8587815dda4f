/**
 * How current the mirror is, from what the database records. `frozen` means the
 * signed expiry of the version held has passed: the publisher (or something
 * between) has stopped vouching for it.
 */
import type { MirrorState, SyncStatus } from "../feed/mod.ts";

/** `unsynced`: no version applied yet. */
export type Freshness = "unsynced" | "fresh" | "stale" | "frozen";

/** The mirror's freshness at `now`. */
export function freshnessOf(
  mirror: MirrorState,
  status: SyncStatus,
  now: number,
  staleAfterSeconds: number,
): Freshness {
  if (mirror.version === 0) return "unsynced";
  if (mirror.expires !== null && now >= mirror.expires) return "frozen";
  if (status.lastSuccess === null || now - status.lastSuccess > staleAfterSeconds * 1000) {
    return "stale";
  }
  return "fresh";
}

/** How look-ups treat mirror rows: normally, flagged `stale`, or not at all. */
export type MirrorMode = "current" | "stale" | "off";

/** Holds the mode look-ups read on every answer; the sync service updates it. */
export interface MirrorModeHolder {
  mode: MirrorMode;
}

/** The mode for a freshness under the operator's policy for a frozen mirror. */
export function mirrorModeFor(
  freshness: Freshness,
  policy: "serve-stale" | "unknown",
): MirrorMode {
  if (freshness !== "frozen") return "current";
  return policy === "serve-stale" ? "stale" : "off";
}
