/**
 * What the operator sees of the statistics: the days with their record counts,
 * one day's counts by verdict and threat, and a day's NDJSON, whether the day is
 * still a file or already packed. Safe while the node writes: nothing is changed
 * (counting a day with very many distinct threats uses a temporary file in the
 * folder), and every day is streamed, never read into memory whole.
 */
import { AppError, quote } from "../core/mod.ts";
import { archivedNdjson, fileChunks, type Manifest, readManifest } from "./archive.ts";
import { archiveDates, archiveFile, dayFile, dayFileDates, exists } from "./layout.ts";
import { type OtherThreats, summarize } from "./summary.ts";

/** One day in the list. */
export interface DayListing {
  date: string;
  records: number;
  /** Bytes of the day's NDJSON. */
  bytes: number;
  archived: boolean;
  /** Size of the TAR archive, when packed. */
  archiveBytes?: number;
}

/** One day's counts. */
export interface DayCounts {
  date: string;
  archived: boolean;
  records: number;
  bytes: number;
  verdicts: Record<string, number>;
  /** The 1,000 most frequent threats, largest first, ties by name. */
  threats: Record<string, number>;
  /** The records with a threat not in `threats`, and how many distinct threats they carry. */
  otherThreats: OtherThreats;
  /** Every count is counted, none estimated. */
  countsExact: boolean;
  /** SHA-256 of the archived NDJSON, from the manifest. */
  sha256?: string;
}

const NEWLINE = 0x0a;

/** Every day with statistics, oldest first. */
export async function listDays(dir: string): Promise<DayListing[]> {
  const days = new Map<string, DayListing>();
  for (const date of await archiveDates(dir)) {
    const path = archiveFile(dir, date);
    const manifest = await readManifest(path);
    days.set(date, {
      date,
      records: manifest.records,
      bytes: manifest.bytes,
      archived: true,
      archiveBytes: (await Deno.stat(path)).size,
    });
  }
  for (const date of await dayFileDates(dir)) {
    const open = await countLines(dayFile(dir, date));
    const day = days.get(date) ?? { date, records: 0, bytes: 0, archived: false };
    day.records += open.records;
    day.bytes += open.bytes;
    days.set(date, day);
  }
  return [...days.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
}

/**
 * One day's counts by verdict and threat; 404 `stats_not_found` for a day
 * without statistics. A packed day is read from its manifest; a day with
 * records still in its file is counted from the NDJSON, the archived part
 * included, since two top lists cannot be added exactly.
 */
export async function dayCounts(dir: string, date: string): Promise<DayCounts> {
  try {
    return await countDay(dir, date);
  } catch (err) {
    // The day was packed while it was being read: its records are all in the archive now.
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    return await countDay(dir, date);
  }
}

async function countDay(dir: string, date: string): Promise<DayCounts> {
  const archive = archiveFile(dir, date);
  const file = dayFile(dir, date);
  const manifest: Manifest | undefined = await exists(archive)
    ? await readManifest(archive)
    : undefined;
  const open = await exists(file);
  if (manifest === undefined && !open) throw notFound(date);
  const counts = open
    ? await summarize(
      (async function* day(): AsyncGenerator<Uint8Array> {
        if (manifest !== undefined) yield* archivedNdjson(archive, date);
        yield* completeLines(fileChunks(file));
      })(),
      { tempDir: dir },
    )
    : manifest!;
  return {
    date,
    archived: manifest !== undefined,
    records: counts.records,
    bytes: counts.bytes,
    verdicts: counts.verdicts,
    threats: counts.threats,
    otherThreats: counts.otherThreats,
    countsExact: counts.countsExact,
    ...(manifest === undefined ? {} : { sha256: manifest.sha256 }),
  };
}

/**
 * A day's NDJSON: the archived records, then any still in its file (up to the
 * last complete line). 404 `stats_not_found` for a day without statistics.
 */
export async function exportDay(dir: string, date: string): Promise<AsyncIterable<Uint8Array>> {
  const archive = archiveFile(dir, date);
  const file = dayFile(dir, date);
  const archived = await exists(archive);
  const open = await exists(file);
  if (!archived && !open) throw notFound(date);
  return (async function* day(): AsyncGenerator<Uint8Array> {
    if (archived) yield* archivedNdjson(archive, date);
    if (open) yield* completeLines(fileChunks(file));
  })();
}

/** The path of a day's archive; 404 `stats_not_found` unless the day is packed. */
export async function archiveOf(dir: string, date: string): Promise<string> {
  const path = archiveFile(dir, date);
  if (!(await exists(path))) {
    throw new AppError(
      "not_found",
      "stats_not_found",
      `No statistics archive for ${quote(date)}: days are packed after they end (UTC)`,
    );
  }
  return path;
}

function notFound(date: string): AppError {
  return new AppError("not_found", "stats_not_found", `No statistics for ${quote(date)}`);
}

/** Passes bytes through up to the last newline: a line being written is left out. */
async function* completeLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let held: Uint8Array | undefined;
  for await (const chunk of chunks) {
    const end = chunk.lastIndexOf(NEWLINE);
    if (end === -1) {
      held = held === undefined ? chunk.slice() : concat(held, chunk);
      continue;
    }
    if (held !== undefined) yield held;
    yield chunk.subarray(0, end + 1);
    held = end + 1 < chunk.length ? chunk.slice(end + 1) : undefined;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function countLines(path: string): Promise<{ records: number; bytes: number }> {
  let records = 0;
  let bytes = 0;
  for await (const chunk of completeLines(fileChunks(path))) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) records++;
  }
  return { records, bytes };
}
