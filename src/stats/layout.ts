/**
 * Where statistics live in the data folder: `DATA/stats/YYYY-MM-DD.ndjson` for
 * days still being written and `DATA/stats/archive/YYYY-MM-DD.tar` for packed
 * ones. Dates are UTC days of when the node received the records.
 */
import { join } from "node:path";
import { InvalidInputError, quote } from "../core/mod.ts";

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.ndjson$/;
const ARCHIVE_FILE = /^(\d{4}-\d{2}-\d{2})\.tar$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The statistics folder of a data folder. */
export function statsDir(dataDir: string): string {
  return join(dataDir, "stats");
}

/** The archive folder inside a statistics folder. */
export function archiveDir(dir: string): string {
  return join(dir, "archive");
}

/** The NDJSON file of `date` (YYYY-MM-DD). */
export function dayFile(dir: string, date: string): string {
  return join(dir, `${date}.ndjson`);
}

/** The TAR archive of `date`. */
export function archiveFile(dir: string, date: string): string {
  return join(archiveDir(dir), `${date}.tar`);
}

/** The UTC date (YYYY-MM-DD) of a time in milliseconds. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whether `text` is a real calendar date written YYYY-MM-DD. */
export function isDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(ms) && utcDate(ms) === text;
}

/** Checks a date from outside; 400 `invalid_date` otherwise. */
export function parseDate(text: string): string {
  if (!isDate(text)) {
    throw new InvalidInputError("invalid_date", `Invalid date ${quote(text)}: expected YYYY-MM-DD`);
  }
  return text;
}

/** Dates of the open day files in `dir`, oldest first. */
export async function dayFileDates(dir: string): Promise<string[]> {
  return await datesIn(dir, DAY_FILE);
}

/** Dates of the archives under `dir`, oldest first. */
export async function archiveDates(dir: string): Promise<string[]> {
  return await datesIn(archiveDir(dir), ARCHIVE_FILE);
}

async function datesIn(dir: string, pattern: RegExp): Promise<string[]> {
  const dates: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const m = entry.isFile ? pattern.exec(entry.name) : null;
      if (m && isDate(m[1])) dates.push(m[1]);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return dates.sort();
}

export { pathExists as exists, syncDir } from "../store/mod.ts";
