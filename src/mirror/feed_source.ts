/**
 * Where a sync reads the feed from: an HTTP server (an origin, a CDN, or a
 * parent node's /feed/) or an offline bundle. Sources only move bytes; the
 * client verifies everything they return.
 */
import type { FileRef } from "../feed/mod.ts";

/** A feed tree, read by relative names. */
export interface FeedSource {
  /** Names the source in logs and errors. */
  readonly label: string;
  /**
   * A small metadata file's text, or null when the source does not have it.
   * More than `maxBytes` is refused (`too_large`), not truncated.
   */
  text(name: string, maxBytes: number): Promise<string | null>;
  /**
   * Puts the bytes of `ref` at `path`, resuming from `path + ".part"` when a
   * previous attempt left one. Throws `missing_file` when the source has no
   * such file. The caller checks the hash and length.
   */
  fetch(ref: FileRef, path: string): Promise<void>;
}
