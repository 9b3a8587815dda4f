/**
 * What a feed tree keeps: which deltas the new manifest lists, and removing the
 * files that neither the new manifest nor the previous one names.
 */
import { join } from "node:path";
import type { DeltaRef, Manifest } from "./metadata.ts";

/**
 * At most this many deltas in a manifest, well under the 10,000 that readers
 * accept: a build a minute kept for a week would otherwise be 10,080.
 */
export const MAX_MANIFEST_DELTAS = 1000;

/** Which deltas {@link keptDeltas} keeps. */
export interface RetentionOptions {
  /** The version of the new manifest's snapshot. */
  snapshotVersion: number;
  /** Deltas created before this (ms) go, unless a node at the snapshot needs them. */
  retainAfter: number;
  /** At most this many, the oldest dropped first. */
  max: number;
}

/**
 * The deltas the new manifest lists, oldest first: every one after the snapshot
 * and older ones within the retention, at most `max`. The caller makes sure the
 * ones after the snapshot fit (by writing a snapshot when they would not).
 */
export function keptDeltas(deltas: DeltaRef[], options: RetentionOptions): DeltaRef[] {
  const kept = deltas.filter((d) =>
    d.to > options.snapshotVersion || Date.parse(d.created) >= options.retainAfter
  );
  return kept.slice(Math.max(0, kept.length - options.max));
}

/**
 * Removes data files and manifests that none of `manifests` names, nor
 * `manifestNames`: a node may be half-way through the previous version's files.
 */
export async function prune(
  out: string,
  keep: { manifests: Manifest[]; manifestNames: string[] },
): Promise<string[]> {
  const wanted = new Set<string>(keep.manifestNames);
  for (const m of keep.manifests) {
    wanted.add(m.snapshot.name);
    for (const d of m.deltas) wanted.add(d.name);
  }
  const removed: string[] = [];
  for (const folder of ["manifests", "snapshots", "deltas"]) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(join(out, folder))];
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      throw err;
    }
    for (const entry of entries) {
      const name = `${folder}/${entry.name}`;
      if (!entry.isFile || wanted.has(name)) continue;
      await Deno.remove(join(out, name));
      removed.push(name);
    }
  }
  return removed;
}
