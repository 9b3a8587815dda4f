/**
 * Packing a closed day into `archive/YYYY-MM-DD.tar`: a `manifest.json` (date,
 * record count, SHA-256 of the NDJSON, exact counts by verdict and of the 1,000
 * most frequent threats with the rest summed up, and the SHA-256 and length of
 * every day file packed into it) and the day's NDJSON. Packing streams the day
 * and runs in bounded memory whatever the number of distinct threats.
 * The TAR is written under a temporary name, synced, renamed and its folder
 * synced; only then is the day file removed, so a crash at any point leaves the
 * records in one place or the other, never nowhere. The list of packed day
 * files makes a repeat after such a crash remove the file instead of packing
 * its records a second time.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type Clock, quote } from "../core/mod.ts";
import { archiveDir, archiveFile, dayFile, exists, syncDir } from "./layout.ts";
import { summarize, type Summary, topThreats } from "./summary.ts";
import { archiveDamaged, readTar, removeCountFiles, writeTar } from "../store/mod.ts";

const ARCHIVE_LABEL = "Statistics archive";

/** A day file packed into an archive, known by its content. */
export interface PackedFile {
  /** SHA-256 of the whole file, lower-case hex. */
  sha256: string;
  bytes: number;
}

/**
 * The `manifest.json` of an archive. Archives written before `otherThreats` and
 * `countsExact` existed list every threat; {@link readManifest} reads them as
 * this shape (the top threats, the rest summed up, exact).
 */
export interface Manifest extends Summary {
  date: string;
  /** When the archive was written (ISO 8601). */
  packedAt: string;
  /** The day files packed into the archive, oldest first; archives from before the list lack it. */
  dayFiles?: PackedFile[];
}

/** The manifest's name inside an archive. */
export const MANIFEST = "manifest.json";
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** The NDJSON file's name inside the archive of `date`. */
export function ndjsonName(date: string): string {
  return `${date}.ndjson`;
}

/** Options of {@link packDay}. */
export interface PackOptions {
  clock: Clock;
  /** Runs with the archive in place, right before the day file is removed; tests crash there. */
  beforeRemove?: () => void | Promise<void>;
}

/**
 * Packs the day file of `date` into its archive and removes the file. When an
 * archive of that date exists already (a crash after the rename, or records
 * written after the day was packed), it is kept and only what it lacks is
 * added: a file the manifest lists as packed is just removed, and of a file
 * that starts with a listed one only the rest is appended.
 */
export async function packDay(dir: string, date: string, options: PackOptions): Promise<Manifest> {
  const { clock } = options;
  const source = dayFile(dir, date);
  const target = archiveFile(dir, date);
  const removeSource = async (): Promise<void> => {
    await options.beforeRemove?.();
    await removeSynced(source, dir);
  };
  const counting = { tempDir: dir };
  const file = await summarize(fileChunks(source), counting);
  let packed: PackedFile[] = [];
  let chunks = (): AsyncIterable<Uint8Array> => fileChunks(source);
  let summary = file;
  if (await exists(target)) {
    const previous = await readManifest(target);
    packed = packedFiles(previous);
    const skip = await packedPrefix(source, packed);
    const fresh = (): AsyncIterable<Uint8Array> => skipBytes(fileChunks(source), skip);
    const rest = skip === 0 ? file : await summarize(fresh(), counting);
    if (rest.records === 0) {
      await removeSource();
      return previous;
    }
    chunks = async function* merged(): AsyncGenerator<Uint8Array> {
      yield* archivedNdjson(target, date);
      yield* fresh();
    };
    summary = await summarize(chunks(), counting);
  }
  const manifest: Manifest = {
    date,
    ...summary,
    packedAt: new Date(clock.now()).toISOString(),
    dayFiles: [...packed, { sha256: file.sha256, bytes: file.bytes }],
  };
  await Deno.mkdir(archiveDir(dir), { recursive: true });
  const temporary = `${target}.tmp`;
  const mtime = new Date(clock.now());
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n");
  try {
    await writeTar(temporary, [
      { name: MANIFEST, size: manifestBytes.length, mtime, chunks: [manifestBytes] },
      { name: ndjsonName(date), size: summary.bytes, mtime, chunks: chunks() },
    ]);
    await Deno.rename(temporary, target);
  } catch (err) {
    // A half-written archive (a full disk, say) must not hold on to the space until a restart.
    await Deno.remove(temporary).catch(() => {});
    throw err;
  }
  await syncDir(archiveDir(dir));
  await removeSource();
  return manifest;
}

/**
 * The day files an archive holds. An archive from before the list counts as
 * one file with its whole NDJSON, which is what it was unless it was merged.
 */
function packedFiles(manifest: Manifest): PackedFile[] {
  if (Array.isArray(manifest.dayFiles)) return manifest.dayFiles;
  return [{ sha256: manifest.sha256, bytes: manifest.bytes }];
}

/**
 * How many leading bytes of the file at `path` are packed already: the length
 * of the longest listed file it starts with (its whole length after a crash
 * between the rename and the removal), or 0.
 */
async function packedPrefix(path: string, packed: PackedFile[]): Promise<number> {
  const lengths = [...new Set(packed.map((p) => p.bytes))].filter((n) => n > 0);
  lengths.sort((a, b) => a - b);
  const hash = createHash("sha256");
  let offset = 0;
  let next = 0;
  let longest = 0;
  for await (let chunk of fileChunks(path)) {
    while (chunk.length > 0 && next < lengths.length) {
      const take = Math.min(chunk.length, lengths[next] - offset);
      hash.update(chunk.subarray(0, take));
      offset += take;
      chunk = chunk.subarray(take);
      if (offset !== lengths[next]) continue;
      const digest = hash.copy().digest("hex");
      if (packed.some((p) => p.bytes === offset && p.sha256 === digest)) longest = offset;
      next++;
    }
    if (next === lengths.length) break;
  }
  return longest;
}

/** The chunks without their first `count` bytes. */
async function* skipBytes(
  chunks: AsyncIterable<Uint8Array>,
  count: number,
): AsyncGenerator<Uint8Array> {
  let left = count;
  for await (const chunk of chunks) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield chunk.subarray(left);
    left = 0;
  }
}

/** Reads an archive's manifest (its first entry). */
export async function readManifest(path: string): Promise<Manifest> {
  for await (const entry of readTar(path, { label: ARCHIVE_LABEL })) {
    if (entry.name !== MANIFEST) break;
    if (entry.size > MAX_MANIFEST_BYTES) break;
    const text = await new Response(ReadableStream.from(entry.body)).text();
    let manifest: Manifest;
    try {
      manifest = JSON.parse(text);
    } catch {
      break;
    }
    if (manifest === null || typeof manifest !== "object") break;
    return upgraded(manifest);
  }
  throw archiveDamaged(ARCHIVE_LABEL, path, `no readable ${quote(MANIFEST)}`);
}

/** A manifest in the current shape: older ones list every threat and have no `otherThreats`. */
function upgraded(manifest: Manifest): Manifest {
  const top = topThreats(manifest.threats ?? {}, manifest.otherThreats);
  // Older manifests counted every threat by name: exact, as the current ones are.
  return { ...manifest, ...top, countsExact: manifest.countsExact ?? true };
}

/** Streams the NDJSON of an archive. */
export async function* archivedNdjson(
  path: string,
  date: string,
): AsyncGenerator<Uint8Array> {
  const name = ndjsonName(date);
  for await (const entry of readTar(path, { label: ARCHIVE_LABEL })) {
    if (entry.name === name) {
      yield* entry.body;
      return;
    }
    for await (const _ of entry.body) {
      // Every entry is read to its end; tar-stream only moves on then.
    }
  }
  throw archiveDamaged(ARCHIVE_LABEL, path, `no ${quote(name)} inside`);
}

/** Reads a file in chunks. */
export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  yield* file.readable;
}

async function removeSynced(path: string, dir: string): Promise<void> {
  await Deno.remove(path);
  await syncDir(dir);
}

/**
 * Removes temporary archives a crash left behind, and returns their names;
 * temporary counting files are removed too, unreported: they hold no records.
 */
export async function removeTemporaries(dir: string): Promise<string[]> {
  await removeCountFiles(dir);
  const removed: string[] = [];
  try {
    for await (const entry of Deno.readDir(archiveDir(dir))) {
      if (entry.isFile && entry.name.endsWith(".tar.tmp")) {
        await Deno.remove(join(archiveDir(dir), entry.name));
        removed.push(entry.name);
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return removed;
}
