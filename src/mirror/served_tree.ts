/**
 * The verified copy of the feed tree a serving node keeps in DATA/sync/feed
 * for its downstream nodes: every file the current manifest names, the root
 * chain, and the timestamp exactly as signed, published last.
 */
import { join } from "node:path";
import { type Logger, quote } from "../core/mod.ts";
import {
  checkFile,
  feedPath,
  type FileRef,
  type Manifest,
  manifestSchema,
  parseEnvelope,
  parseJson,
  pathExists,
  readTextIfExists,
  ROOT_FILE,
  rootFile,
  rootSchema,
  TIMESTAMP_FILE,
  timestampSchema,
  writeFileAtomic,
} from "../feed/mod.ts";

/** What {@link publishServed} needs. */
export interface ServedTreeDeps {
  /** The served tree (DATA/sync/feed). */
  served: string;
  /** Where {@link ServedTreeDeps.fetchVerified} leaves its downloads (DATA/sync/staging). */
  staging: string;
  /** The newest trusted root's text, published when the served tree has no root yet. */
  rootText: string;
  log: Logger;
  /** Returns the path of a copy of `ref` checked against its signed hash and length. */
  fetchVerified: (ref: FileRef) => Promise<string>;
}

/** Publishes one verified root version: as `root.N.json` and as the current `root.json`. */
export async function publishRoot(served: string, version: number, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  await writeFileAtomic(join(served, rootFile(version)), [bytes]);
  await writeFileAtomic(join(served, ROOT_FILE), [bytes]);
}

/**
 * Makes the served copy complete for the manifest (every file it names), then
 * publishes the timestamp exactly as signed, then prunes what no manifest needs.
 */
export async function publishServed(
  deps: ServedTreeDeps,
  timestampText: string,
  manifest: Manifest,
): Promise<void> {
  const { served, staging } = deps;
  const envelope = parseEnvelope(timestampText, timestampSchema, TIMESTAMP_FILE);
  const refs: FileRef[] = [envelope.signed.manifest, manifest.snapshot, ...manifest.deltas];
  for (const ref of refs) {
    const target = feedPath(served, ref.name);
    if (await pathExists(target)) {
      // Re-checked every run, so a copy damaged on disk is replaced, not served on.
      try {
        await checkFile(target, ref);
        continue;
      } catch (err) {
        deps.log.warn(
          `Replacing the damaged served copy of ${quote(ref.name)}: ${(err as Error).message}`,
        );
        await Deno.remove(target);
      }
    }
    const path = await deps.fetchVerified(ref);
    await Deno.mkdir(join(target, ".."), { recursive: true });
    if (path.startsWith(staging)) await Deno.rename(path, target);
  }
  await pruneServed(served, manifest, envelope.signed.manifest.name);
  if (await readTextIfExists(join(served, ROOT_FILE)) === null) {
    const root = parseEnvelope(deps.rootText, rootSchema, ROOT_FILE).signed;
    await publishRoot(served, root.version, deps.rootText);
  }
  await writeFileAtomic(join(served, TIMESTAMP_FILE), [new TextEncoder().encode(timestampText)]);
}

async function pruneServed(
  served: string,
  manifest: Manifest,
  manifestName: string,
): Promise<void> {
  // Keep what the previous manifest named too: a downstream node may be mid-way through it.
  const previousText = await readTextIfExists(join(served, TIMESTAMP_FILE));
  const wanted = new Set([
    manifestName,
    manifest.snapshot.name,
    ...manifest.deltas.map((d) => d.name),
  ]);
  if (previousText !== null) {
    try {
      const prevRef = parseEnvelope(previousText, timestampSchema, TIMESTAMP_FILE).signed.manifest;
      wanted.add(prevRef.name);
      const prev = parseJson(
        await Deno.readTextFile(feedPath(served, prevRef.name)),
        manifestSchema,
        prevRef.name,
      );
      wanted.add(prev.snapshot.name);
      for (const d of prev.deltas) wanted.add(d.name);
    } catch { /* nothing more to keep */ }
  }
  for (const folder of ["manifests", "snapshots", "deltas"]) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(join(served, folder))];
    } catch {
      continue;
    }
    for (const entry of entries) {
      const name = `${folder}/${entry.name}`;
      if (entry.isFile && !wanted.has(name)) await Deno.remove(join(served, name)).catch(() => {});
    }
  }
}
