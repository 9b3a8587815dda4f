/**
 * Packing a closed day into `archive/YYYY-MM-DD.tar`: a `manifest.json` (date,
 * record count, SHA-256 of the NDJSON, counts by verdict and threat) and the
 * day's NDJSON. The TAR is written under a temporary name, synced, renamed and
 * its folder synced; only then is the day file removed, so a crash at any
 * point leaves the records in one place or the other, never nowhere.
 */
import { join } from "node:path";
import type { Clock } from "../clock.ts";
import { quote } from "../errors.ts";
import { archiveDir, archiveFile, dayFile, exists, syncDir } from "./layout.ts";
import { summarize, type Summary } from "./summary.ts";
import { archiveDamaged, readTar, writeTar } from "../store/tar.ts";

const ARCHIVE_LABEL = "Statistics archive";

/** The `manifest.json` of an archive. */
export interface Manifest extends Summary {
  date: string;
  /** When the archive was written (ISO 8601). */
  packedAt: string;
}

/** The manifest's name inside an archive. */
export const MANIFEST = "manifest.json";
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** The NDJSON file's name inside the archive of `date`. */
export function ndjsonName(date: string): string {
  return `${date}.ndjson`;
}

/**
 * Packs the day file of `date` into its archive and removes the file. When an
 * archive of that date exists already (a crash after the rename, or records
 * written after the day was packed), it is kept: identical content just
 * removes the file, other content is appended to the archived records.
 */
export async function packDay(dir: string, date: string, clock: Clock): Promise<Manifest> {
  const source = dayFile(dir, date);
  const target = archiveFile(dir, date);
  const fromFile = (): AsyncIterable<Uint8Array> => fileChunks(source);
  let chunks = fromFile;
  if (await exists(target)) {
    const previous = await readManifest(target);
    const current = await summarize(fromFile());
    if (current.sha256 === previous.sha256 || current.records === 0) {
      await removeSynced(source, dir);
      return previous;
    }
    chunks = async function* merged(): AsyncGenerator<Uint8Array> {
      yield* archivedNdjson(target, date);
      yield* fromFile();
    };
  }
  const summary = await summarize(chunks());
  const manifest: Manifest = { date, ...summary, packedAt: new Date(clock.now()).toISOString() };
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
  await removeSynced(source, dir);
  return manifest;
}

/** Reads an archive's manifest (its first entry). */
export async function readManifest(path: string): Promise<Manifest> {
  for await (const entry of readTar(path, { label: ARCHIVE_LABEL })) {
    if (entry.name !== MANIFEST) break;
    if (entry.size > MAX_MANIFEST_BYTES) break;
    const text = await new Response(ReadableStream.from(entry.body)).text();
    try {
      return JSON.parse(text) as Manifest;
    } catch {
      break;
    }
  }
  throw archiveDamaged(ARCHIVE_LABEL, path, `no readable ${quote(MANIFEST)}`);
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

/** Removes temporary archives a crash left behind. */
export async function removeTemporaries(dir: string): Promise<string[]> {
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
