/** `pksn feed build`: publish the next version of a feed from a database or feed files. */
import { basename, dirname, join, resolve } from "node:path";
import { AppError, quote, StoreError, systemClock, UsageError } from "../core/mod.ts";
import { FEED_FORMATS, importBytes, type ImportFormat, isFeedFormat } from "../feeds/mod.ts";
import { type DatabaseSync, migrate, openDatabase, ORIGIN_MIRROR } from "../store/mod.ts";
import { type BuildReport, buildVersion, MAX_MANIFEST_DELTAS, readFeedRoot } from "../feed/mod.ts";
import { openSourceDatabase, type Source } from "./_feed_source.ts";
import type { Command, CommandInput, Options } from "./command.ts";
import { formatOf, printLineErrors, repeatSummary } from "./import.ts";
import { Progress } from "./progress.ts";
import {
  feedSubcommand,
  intOption,
  listOption,
  readKeyFiles,
  requiredOption,
} from "./_feed_args.ts";

const BUILD_HELP = `Usage: pksn feed build --out DIR --timestamp-key FILE
                      (--from-db PATH | --input FILE...) [options]

Publishes the next version of the feed in DIR: a delta from the last version
(and a full snapshot every few versions), a manifest, and the signed
timestamp, written last. The publisher's own state database remembers what was
published; if a build is interrupted, the next one catches up from DIR.

Options:
  --out DIR           the feed folder (made by "pksn feed init")
  --timestamp-key FILE
                      a key of the root's timestamp role (repeatable, up to the
                      role's threshold)
  --state FILE        the publisher state database (default: DIR.publisher.db,
                      beside the folder, since the folder is served as it is)
  --from-db PATH      publish the mirror entries of this pksn database (read-only)
  --input FILE[:FORMAT]
                      publish the records of these files instead (repeatable;
                      FORMAT as for --format, for this file only);
                      all or nothing: if any line is bad, nothing is published.
                      Lines are checked as "pksn import" checks them: two lines
                      of one file that give an object different values are bad
                      lines; a later file's record replaces an earlier file's
  --last-wins         of lines of one file that give an object different
                      values, keep the last instead of publishing nothing
  --format FORMAT     of every --input without its own: ndjson, csv, urlhaus,
                      malwarebazaar, threatfox or list (default: public feed
                      exports by their header, else by file name; .csv is
                      CSV, else NDJSON)
  --snapshot-every N  a full snapshot every N versions (default 10), sooner
                      if more than ${MAX_MANIFEST_DELTAS} deltas would follow the last one
  --keep-deltas-days N
                      keep deltas this long, and always those after the
                      snapshot (default 7); at most ${MAX_MANIFEST_DELTAS}, the oldest go first
  --expires-hours N   how long nodes may use this version without a newer
                      timestamp (default 48); build at least this often
  --min-poll-seconds N
                      nodes poll no more often than this (default 60)
  -h, --help          show this help
`;

const BUILD_OPTIONS = {
  out: { type: "string" },
  "timestamp-key": { type: "string", multiple: true },
  state: { type: "string" },
  "from-db": { type: "string" },
  input: { type: "string", multiple: true },
  format: { type: "string" },
  "last-wins": { type: "boolean" },
  "snapshot-every": { type: "string" },
  "keep-deltas-days": { type: "string" },
  "expires-hours": { type: "string" },
  "min-poll-seconds": { type: "string" },
} as const satisfies Options;

const INPUT_FORMATS = ["ndjson", "csv", ...Object.keys(FEED_FORMATS)];

/** `pksn feed build`. */
export const buildCommand: Command = feedSubcommand({
  name: "build",
  summary: "publish the next version from a database or feed files",
  help: BUILD_HELP,
  options: BUILD_OPTIONS,
  keepsUmask: true,
  run: buildFeed,
});

async function buildFeed({ values }: CommandInput<typeof BUILD_OPTIONS>): Promise<number> {
  const out = requiredOption(values, "out", "build");
  const fromDb = values["from-db"];
  const inputs = listOption(values, "input");
  if (fromDb !== undefined && inputs.length > 0) {
    throw new UsageError(
      'Give either --from-db PATH or --input FILE, not both; see "pksn feed build --help"',
    );
  }
  if (fromDb === undefined && inputs.length === 0) {
    throw new UsageError(
      "Nothing to publish: give --from-db PATH (a pksn database or data folder) or --input FILE; " +
        'see "pksn feed build --help"',
    );
  }
  const format = values.format;
  if (format !== undefined && fromDb !== undefined) {
    throw new UsageError("--format applies only to --input");
  }
  const lastWins = values["last-wins"] === true;
  if (lastWins && fromDb !== undefined) throw new UsageError("--last-wins applies only to --input");
  if (format !== undefined && !INPUT_FORMATS.includes(format)) {
    throw new UsageError(
      `Unknown format ${quote(format)}: expected one of ${INPUT_FORMATS.join(", ")}`,
    );
  }
  const settings = {
    snapshotEvery: intOption(values, "snapshot-every", 10, { min: 1, max: 100_000 }),
    deltaRetentionSeconds: intOption(values, "keep-deltas-days", 7, { min: 0, max: 3650 }) *
      86_400,
    expiresSeconds: intOption(values, "expires-hours", 48, { min: 1, max: 24 * 3650 }) * 3600,
    minPollSeconds: intOption(values, "min-poll-seconds", 60, { min: 0, max: 86_400 }),
  };
  const timestampKeys = await readKeyFiles(values, "timestamp-key", "build");
  // Fails fast, before any input is read or the state database is made.
  await readFeedRoot(out);
  const statePath = values.state ?? `${resolve(out)}.publisher.db`;

  await using _lock = await lockBuild(statePath);
  const source = fromDb !== undefined
    ? await openSourceDatabase(fromDb)
    : await importInputs(inputs, { format, lastWins }, dirname(statePath));
  if (source === null) return 1;
  try {
    const state = openStateDatabase(statePath);
    try {
      const report = await buildVersion({
        out,
        state,
        source: source.db,
        timestampKeys,
        now: systemClock.now(),
        ...settings,
      });
      console.log(summary(report, out));
      return 0;
    } finally {
      state.close();
    }
  } finally {
    await source.close();
  }
}

function summary(report: BuildReport, out: string): string {
  const bytes = (report.deltaBytes ?? 0) + (report.snapshotBytes ?? 0);
  // The feed holds one record a look-up key: "keys", as `pksn import` counts them.
  return `Published version ${report.version} to ${quote(out)}: ${report.records} keys, ` +
    `${report.added} added, ${report.updated} updated, ${report.removed} removed, ` +
    `snapshot ${report.snapshot ? "yes" : "no"}, ${bytes} bytes`;
}

/**
 * Holds an exclusive lock on a file beside the state database until disposed:
 * two builds at once would both publish the same version number.
 */
async function lockBuild(statePath: string): Promise<AsyncDisposable> {
  const path = `${statePath}.lock`;
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(dirname(path), { recursive: true });
    file = await Deno.open(path, { write: true, create: true });
  } catch (err) {
    throw new StoreError(`Cannot create lock file ${quote(path)}: ${(err as Error).message}`);
  }
  await file.lock(true);
  return {
    [Symbol.asyncDispose](): Promise<void> {
      file.close();
      return Promise.resolve();
    },
  };
}

function openStateDatabase(path: string): DatabaseSync {
  const db = openDatabase(path, { cacheMiB: 16 });
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** A database to publish from, and how to let go of it. */

/**
 * Imports every input into a fresh database beside the state database (which
 * may be large; /tmp is often small). Prints each bad line as FILE:LINE and
 * returns null if any input had one.
 */
async function importInputs(
  inputs: string[],
  options: InputOptions,
  near: string,
): Promise<Source | null> {
  await Deno.mkdir(near, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: near, prefix: ".pksn-feed-input-" });
  const db = openDatabase(join(dir, "input.db"), { cacheMiB: 64 });
  const close = async (): Promise<void> => {
    db.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    migrate(db);
    let failed = false;
    for (const file of inputs) {
      if (!(await importInput(db, file, options))) failed = true;
    }
    if (!failed) return { db, close };
    console.error("Nothing published: fix the lines above and build again");
  } catch (err) {
    await close();
    throw err;
  }
  await close();
  return null;
}

/** How every --input is read. */
interface InputOptions {
  /** The format of every input; by default each file's name picks it. */
  format: string | undefined;
  lastWins: boolean;
}

const FORMAT_SUFFIX = new RegExp(`^(.+):(${INPUT_FORMATS.join("|")})$`);

async function importInput(
  db: DatabaseSync,
  given: string,
  options: InputOptions,
): Promise<boolean> {
  // FILE:FORMAT names one input's format; --format names every input's; else it is recognised.
  const named = FORMAT_SUFFIX.exec(given);
  const file = named ? named[1] : given;
  const format = named?.[2] ?? options.format ?? await formatOf(file);
  let input: Deno.FsFile;
  try {
    if (!(await Deno.stat(file)).isFile) throw new Error("not a regular file");
    input = await Deno.open(file, { read: true });
  } catch (err) {
    throw new AppError(
      "invalid",
      "unreadable",
      `Cannot read ${quote(file)}: ${(err as Error).message}`,
    );
  }
  const progress = new Progress(`Reading ${file}`, { total: (await input.stat()).size });
  let report;
  try {
    report = await importBytes(db, progress.watch(input.readable), {
      format: isFeedFormat(format) ? { feed: format } : format as ImportFormat,
      origin: ORIGIN_MIRROR,
      source: basename(file),
      lastWins: options.lastWins,
      name: file,
    });
  } finally {
    progress.close();
  }
  if (report.committed) {
    for (const line of repeatSummary(report)) console.log(`${quote(file)}: ${line}`);
    return true;
  }
  printLineErrors(file, report);
  console.error(
    `${quote(file)}: ${report.errorCount} of ${
      Math.max(progress.lines, report.lines, report.errorCount)
    } ` +
      "lines have errors",
  );
  return false;
}
