/**
 * A local copy of one feed file, checked against its signed hash and length
 * before anything reads it: the served copy when it is sound, else a download
 * into the staging folder (resumed from a partial one).
 */
import { join } from "node:path";
import { quote } from "../core/mod.ts";
import { checkFile, feedPath, type FileRef, pathExists, SyncError } from "../feed/mod.ts";
import type { FeedSource } from "./feed_source.ts";

/** Where {@link verifiedCopy} looks and downloads. */
export interface CopyPlaces {
  source: FeedSource;
  /** DATA/sync/staging, named by SHA-256. */
  staging: string;
  /** The served tree, whose copies need no download, or null on a node that serves none. */
  served: string | null;
}

/** The path of a copy of `ref` that matches its signed hash and length; at most `maxBytes`. */
export async function verifiedCopy(
  places: CopyPlaces,
  ref: FileRef,
  maxBytes: number,
): Promise<string> {
  if (ref.length > maxBytes) {
    throw new SyncError(
      "too_large",
      `${quote(ref.name)} is ${ref.length} bytes; at most ${maxBytes} are accepted ` +
        "(sync.maxFileMiB)",
    );
  }
  if (places.served !== null) {
    const kept = feedPath(places.served, ref.name);
    if (await pathExists(kept)) {
      try {
        await checkFile(kept, ref);
        return kept;
      } catch { /* damaged: fetch it again */ }
    }
  }
  const path = join(places.staging, ref.sha256);
  if (!(await pathExists(path))) await places.source.fetch(ref, path);
  try {
    await checkFile(path, ref);
  } catch (err) {
    await Deno.remove(path).catch(() => {});
    throw err;
  }
  return path;
}
