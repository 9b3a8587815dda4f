/**
 * Offline bundles: a feed tree's current version in one TAR (the root chain,
 * the signed timestamp, the manifest and every data file it names) for nodes
 * that cannot reach the feed over a network. A bundle is only a transport: the
 * node reads it through {@link BundleFeedSource} and verifies it exactly as it
 * verifies a network sync.
 */
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { createReadStream } from "node:fs";
import { dirname, join } from "node:path";
import { quote } from "../core/mod.ts";
import { syncDir, type TarInput, writeTar } from "../store/mod.ts";
import {
  checkFile,
  feedPath,
  type FileRef,
  MAX_MANIFEST_BYTES,
  MAX_METADATA_BYTES,
  parseEnvelope,
  readCurrent,
  readFeedRoot,
  readTextIfExists,
  ROOT_FILE,
  rootFile,
  SyncError,
  TIMESTAMP_FILE,
  timestampSchema,
} from "../feed/mod.ts";
import type { FeedSource } from "./feed_source.ts";
import { type BundleDir, makeBundleDir } from "./staging.ts";

/** What {@link exportBundle} wrote. */
export interface BundleReport {
  version: number;
  files: number;
  bytes: number;
}

/** Names a bundle may hold: the feed tree's own name patterns, nothing else. */
const BUNDLE_NAME =
  /^(?:root(?:\.[1-9][0-9]{0,15})?\.json|timestamp\.json|(?:manifests|snapshots|deltas)\/[A-Za-z0-9][A-Za-z0-9._-]{0,200})$/;
const BUNDLE_DIR = /^(?:manifests|snapshots|deltas)\/?$/;
// The root chain plus at most 10,000 deltas (the manifest's own limit) and change.
const MAX_ENTRIES = 20_000;
const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024 * 1024;

/** Writes the current version of the feed tree at `feedDir` as a TAR at `outPath`. */
export async function exportBundle(feedDir: string, outPath: string): Promise<BundleReport> {
  const root = await readFeedRoot(feedDir);
  // Read once and kept: a build or rotation may replace these files meanwhile.
  const timestampText = await readTextIfExists(join(feedDir, TIMESTAMP_FILE));
  const rootText = await readTextIfExists(join(feedDir, ROOT_FILE));
  const current = await readCurrent(feedDir, root);
  if (timestampText === null || rootText === null || current === null) {
    throw new SyncError(
      "no_timestamp",
      `${quote(join(feedDir, TIMESTAMP_FILE))} does not exist; run "pksn feed build" first`,
    );
  }
  const taken = parseEnvelope(timestampText, timestampSchema, TIMESTAMP_FILE).signed;
  if (taken.version !== current.timestamp.version) {
    throw new SyncError(
      "feed_changed",
      `The feed at ${quote(feedDir)} moved to a new version during the export; run it again`,
    );
  }
  const mtime = new Date(current.manifest.created);
  const entries: TarInput[] = [textEntry(ROOT_FILE, rootText, mtime)];
  for (let n = 1; n <= root.version; n++) {
    const text = await readTextIfExists(join(feedDir, rootFile(n)));
    if (text === null) {
      throw new SyncError(
        "missing_file",
        `${
          quote(join(feedDir, rootFile(n)))
        } is missing; nodes need every root version to follow rotations`,
      );
    }
    entries.push(textEntry(rootFile(n), text, mtime));
  }
  entries.push(textEntry(TIMESTAMP_FILE, timestampText, mtime));
  const refs: FileRef[] = [taken.manifest, current.manifest.snapshot, ...current.manifest.deltas];
  for (const ref of refs) {
    const path = feedPath(feedDir, ref.name);
    // A damaged file is cheaper to catch here than on a node after a trip by hand.
    await checkFile(path, ref);
    entries.push({ name: ref.name, size: ref.length, mtime, chunks: fileChunks(path) });
  }
  await writeTarAtomic(outPath, entries);
  return { version: taken.version, files: entries.length, bytes: (await Deno.stat(outPath)).size };
}

function textEntry(name: string, text: string, mtime: Date): TarInput {
  const bytes = new TextEncoder().encode(text);
  return { name, size: bytes.length, mtime, chunks: [bytes] };
}

// Opened only when the TAR writer reaches the entry, so one file is open at a time.
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  yield* file.readable;
}

async function writeTarAtomic(outPath: string, entries: TarInput[]): Promise<void> {
  const temp = `${outPath}.tmp-${crypto.randomUUID()}`;
  try {
    await writeTar(temp, entries);
    await Deno.rename(temp, outPath);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await syncDir(dirname(outPath) || ".");
}

/** Options for {@link openBundle}. */
export interface OpenBundleOptions {
  /** Largest snapshot or delta accepted (the node's sync.maxFileMiB). */
  maxFileBytes?: number;
}

/**
 * Unpacks the bundle at `path` into a new private folder under `stagingDir`
 * and returns a source over it; `close()` removes the folder. The folder stays
 * locked until then, so a sync run in another process leaves it alone, and one
 * left by a killed import is removed by the next run.
 */
export async function openBundle(
  path: string,
  stagingDir: string,
  options: OpenBundleOptions = {},
): Promise<BundleFeedSource> {
  await assertReadableFile(path);
  const dir = await makeBundleDir(stagingDir);
  try {
    const max = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const names = await extractBundle(path, dir.path, max);
    return new BundleFeedSource(`bundle ${quote(path)}`, dir, names);
  } catch (err) {
    await dir.release();
    throw err;
  }
}

/** A feed read from an unpacked bundle (made by {@link openBundle}). */
export class BundleFeedSource implements FeedSource, AsyncDisposable {
  readonly label: string;
  readonly #dir: BundleDir;
  readonly #names: ReadonlySet<string>;

  constructor(label: string, dir: BundleDir, names: ReadonlySet<string>) {
    this.label = label;
    this.#dir = dir;
    this.#names = names;
  }

  async text(name: string, maxBytes: number): Promise<string | null> {
    if (!this.#names.has(name)) return null;
    const path = join(this.#dir.path, name);
    const { size } = await Deno.stat(path);
    if (size > maxBytes) {
      throw new SyncError(
        "too_large",
        `${quote(name)} is ${size} bytes; at most ${maxBytes} are accepted`,
      );
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(await Deno.readFile(path));
    } catch {
      throw new SyncError("invalid_metadata", `${quote(name)} is not UTF-8 text`);
    }
  }

  async fetch(ref: FileRef, path: string): Promise<void> {
    if (!this.#names.has(ref.name)) {
      throw new SyncError("missing_file", `${quote(ref.name)} is not in ${this.label}`);
    }
    // Copied, not moved: the client removes a copy that fails its check and may ask again.
    const part = `${path}.part`;
    await Deno.copyFile(join(this.#dir.path, ref.name), part);
    await Deno.rename(part, path);
  }

  /** Removes the unpacked files. */
  close(): Promise<void> {
    return this.#dir.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function assertReadableFile(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw new SyncError(
      "invalid_bundle",
      `Cannot read bundle ${quote(path)}: ${(err as Error).message}`,
    );
  }
  if (!info.isFile) {
    throw new SyncError("invalid_bundle", `Cannot read bundle ${quote(path)}: not a regular file`);
  }
}

function invalidBundle(path: string, why: string): SyncError {
  return new SyncError("invalid_bundle", `Bundle ${quote(path)} is not a pksn feed bundle: ${why}`);
}

/** The size cap for an entry name, by what the client accepts for that kind of file. */
function maxBytesFor(name: string, maxFileBytes: number): number {
  if (name.startsWith("manifests/")) return MAX_MANIFEST_BYTES;
  if (name.startsWith("snapshots/") || name.startsWith("deltas/")) return maxFileBytes;
  return MAX_METADATA_BYTES;
}

/**
 * Unpacks regular files with feed names only, each at most its cap. No cap on
 * the total is needed: the entries' bytes all come from the bundle file itself.
 */
async function extractBundle(
  path: string,
  into: string,
  maxFileBytes: number,
): Promise<Set<string>> {
  const names = new Set<string>();
  const extract = tar.extract();
  const input = createReadStream(path);
  input.on("error", (err) => extract.destroy(err));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const { type, size = 0 } = entry.header;
      // GNU tar of a folder ("tar -C feed -cf bundle.tar .") names entries "./x" and adds the
      // folders themselves: those carry nothing to verify and are passed over.
      const name = entry.header.name.replace(/^\.\//, "");
      if (type === "directory" && (name === "" || BUNDLE_DIR.test(name))) {
        for await (const _ of entry) { /* a folder entry has no data */ }
        continue;
      }
      if (type !== "file" || !BUNDLE_NAME.test(name)) {
        throw invalidBundle(path, `unexpected entry ${quote(name)} of type ${quote(type)}`);
      }
      if (names.has(name)) throw invalidBundle(path, `entry ${quote(name)} appears twice`);
      if (names.size >= MAX_ENTRIES) throw invalidBundle(path, `more than ${MAX_ENTRIES} entries`);
      const max = maxBytesFor(name, maxFileBytes);
      if (size > max) {
        throw invalidBundle(
          path,
          `entry ${quote(name)} is ${size} bytes; at most ${max} are accepted`,
        );
      }
      await writeEntry(entry, join(into, name));
      names.add(name);
    }
  } catch (err) {
    if (err instanceof SyncError) throw err;
    throw invalidBundle(path, (err as Error).message);
  } finally {
    input.destroy();
    extract.destroy();
  }
  return names;
}

async function writeEntry(body: AsyncIterable<Uint8Array>, target: string): Promise<void> {
  await Deno.mkdir(dirname(target), { recursive: true });
  const file = await Deno.open(target, { write: true, createNew: true });
  try {
    for await (const chunk of body) {
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
    }
  } finally {
    file.close();
  }
}
