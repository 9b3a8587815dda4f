/**
 * How a run gets from the mirror's version to the manifest's: the delta chain,
 * and when the full snapshot may replace it.
 */
import type { Logger } from "../core/mod.ts";
import { type DeltaRef, type Manifest, SyncError } from "../feed/mod.ts";

/** Failures of the delta path that the snapshot can still work around. */
export const FALL_BACK: ReadonlySet<string> = new Set([
  "missing_file",
  "wrong_base",
  "checksum_mismatch",
]);

/** The deltas from `from` to the manifest's version, or null when one is missing. */
export function deltaChain(manifest: Manifest, from: number): DeltaRef[] | null {
  if (from === 0) return null;
  const byFrom = new Map(manifest.deltas.map((d) => [d.from, d]));
  const chain = [];
  for (let at = from; at < manifest.version;) {
    const delta = byFrom.get(at);
    if (delta === undefined) return null;
    chain.push(delta);
    at = delta.to;
  }
  return chain;
}

/**
 * Decides whether the manifest's snapshot may replace the delta path from
 * mirror version `at` (which failed with `cause`, or did not exist). Returns
 * the deltas to apply after it, or null when the manifest lacks some (a newer
 * snapshot is still taken: it moves the mirror forward). Throws when the
 * snapshot would take the mirror back without bringing it to the manifest's
 * version.
 */
export function deltasAfterSnapshot(
  manifest: Manifest,
  at: number,
  cause: SyncError | null,
  log: Logger,
): DeltaRef[] | null {
  const snapshot = manifest.snapshot.version;
  const rest = deltaChain(manifest, snapshot);
  if (snapshot > at) return rest;
  if (cause?.code === "missing_file") {
    // The chain from the older snapshot passes through this mirror's version and
    // needs the same missing delta again.
    throw new SyncError(
      "missing_delta",
      `${cause.message}; the feed's snapshot (version ${snapshot}) is not newer than this ` +
        `mirror (version ${at}), so the mirror stays at ${at} until the publisher serves ` +
        "the delta or a newer snapshot",
      { cause },
    );
  }
  if (rest === null) {
    const why = cause?.message ?? `The manifest has no deltas from this mirror's version ${at}`;
    throw new SyncError(
      cause?.code ?? "missing_delta",
      `${why}; the feed's snapshot (version ${snapshot}) is not newer than this mirror and ` +
        `the manifest lacks deltas from it to version ${manifest.version}, so the mirror ` +
        `stays at ${at} until the publisher serves a newer snapshot`,
      { cause },
    );
  }
  // A mirror whose own state does not fit the feed (another base, a checksum that
  // disagrees, a version the manifest's deltas skip) is repaired from the older
  // snapshot. Look-ups then answer from that older version until the deltas after
  // it commit, moments later in the same run.
  log.warn(
    `Taking the mirror back from version ${at} to the snapshot's version ${snapshot} ` +
      `to reach version ${manifest.version} through ${rest.length} deltas`,
  );
  return rest;
}
