/** `pksn import FILE`: load reputation records into the mirror or local overrides. */
import { AppError, createLogger, quote, readLines, UsageError } from "../core/mod.ts";
import { openStore } from "../node/mod.ts";
import {
  FEED_FORMATS,
  type FeedOptions,
  type FeedSpec,
  formatFromName,
  importBytes,
  type ImportFormat,
  type ImportOptions,
  importRecords,
  type ImportReport,
  isFeedFormat,
  recogniseFeed,
} from "../feeds/mod.ts";
import { VERDICTS } from "../reputation/mod.ts";
import { ORIGIN_LOCAL, ORIGIN_MIRROR } from "../store/mod.ts";
import { type Command, type CommandInput, defineCommand, type Options } from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import { Progress } from "./progress.ts";
import { saveIndexAfterWrites } from "./_saved_index.ts";

const IMPORT_HELP = `Usage: pksn import FILE [options]

Imports reputation records into the mirror (or, with --override, into this node's
local overrides, which win over the mirror). FILE is NDJSON (one record a line),
CSV with a header row, or a public feed export (see --format); "-" reads standard
input. Without --format, URLhaus, MalwareBazaar and ThreatFox exports are
recognised by their header. The import is all or nothing: if any line is bad, the
first 100 bad lines are listed with their numbers (then a count of the rest) and
nothing is stored. Values are checked as look-ups check them, and a URL's host
must be a domain name or IP address. Two lines that give one object different
verdicts, threats or categories are bad lines (the later one is listed with the
earlier one's FILE:LINE) unless --last-wins is given; repeats with the same
values are counted and the last one is kept.

Record fields: type (file|url|domain|ip|cert), value, verdict
(clean|malicious|phishing|adware|suspicious), and optionally threat, categories
(CSV: separated by ";"), ttl (seconds), firstSeen, lastSeen (ISO 8601 or Unix
seconds), source; a file record may carry md5, sha1 and sha256 together, a cert
record sha1 and sha256.

Feed formats (columns by header name; the files are never fetched by pksn):
  urlhaus             abuse.ch URLhaus CSV: malicious URLs, offline ones included
  malwarebazaar       abuse.ch MalwareBazaar CSV: malicious files by SHA-256/MD5/SHA-1
  threatfox           abuse.ch ThreatFox CSV: IPs (port dropped), domains, URLs, hashes;
                      suspicious below confidence_level 50, else malicious
  list                one hash, IP/CIDR, URL or domain a line; "#" starts a comment

Options:
  --override          write local overrides instead of mirror entries
  --format FORMAT     ndjson, csv, urlhaus, malwarebazaar, threatfox or list
                      (default: from the file name; .csv is CSV, else NDJSON)
  --source NAME       source for records that name none (default: the file name);
                      replaces the source name urlhaus, malwarebazaar or threatfox
  --verdict VERDICT   verdict for every entry of a list (default: malicious)
  --last-wins         of lines that give one object different values, keep the
                      last instead of refusing the file (ThreatFox lists one
                      address under several ports and families)
  --single-thread     read and check the lines on the thread that writes them
                      (by default a second thread reads them: the import is
                      about a fifth faster and uses two cores; this leaves
                      the other core to a node serving on the same machine)
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

const IMPORT_OPTIONS = {
  ...DATA_OPTIONS,
  override: { type: "boolean" },
  format: { type: "string" },
  source: { type: "string" },
  verdict: { type: "string" },
  "last-wins": { type: "boolean" },
  "single-thread": { type: "boolean" },
} as const satisfies Options;

/** `pksn import FILE`. */
export const importCommand: Command = defineCommand({
  name: "import",
  synopsis: "import FILE",
  summary: "import reputation records (NDJSON or CSV)",
  help: IMPORT_HELP,
  options: IMPORT_OPTIONS,
  positionals: true,
  run: importFile,
});

async function importFile(
  { values, positionals }: CommandInput<typeof IMPORT_OPTIONS>,
): Promise<number> {
  if (positionals.length !== 1) {
    throw new UsageError('Expected exactly one FILE; see "pksn import --help"');
  }
  const [file] = positionals;
  const format = values.format ?? (file === "-" ? "ndjson" : await formatOf(file));
  const feed = feedSpec(format, { verdict: values.verdict, source: values.source });
  const config = await loadConfig(values);
  const log = createLogger(config.log.level);
  let input: ReadableStream<Uint8Array>;
  if (file === "-") {
    input = Deno.stdin.readable;
  } else {
    try {
      if (!(await Deno.stat(file)).isFile) {
        throw new AppError(
          "invalid",
          "not_a_file",
          `Cannot read ${quote(file)}: not a regular file`,
        );
      }
      input = (await Deno.open(file)).readable;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(
        "invalid",
        "unreadable",
        `Cannot read ${quote(file)}: ${(err as Error).message}`,
      );
    }
  }
  const db = await openStore(config.dataDir, { cacheMiB: config.store.importCacheMiB, log });
  const lastWins = values["last-wins"] === true;
  try {
    const started = performance.now();
    const size = file === "-" ? null : (await Deno.stat(file)).size;
    const progress = new Progress(`Importing ${file === "-" ? "standard input" : file}`, {
      total: size,
    });
    let report;
    try {
      const bytes = progress.watch(input);
      const options: ImportOptions = {
        format: feed ?? format as ImportFormat,
        origin: values.override ? ORIGIN_LOCAL : ORIGIN_MIRROR,
        source: values.source ?? (file === "-" ? "import" : file.split("/").pop()!),
        lastWins,
        name: file,
      };
      // The lines are read on a second thread unless told otherwise.
      report = values["single-thread"] === true
        ? await importRecords(db, readLines(bytes), options)
        : await importBytes(db, bytes, options);
    } finally {
      progress.close();
    }
    const seconds = (performance.now() - started) / 1000;
    log.debug("Read the import's lines", {
      thread: report.parsedOnWorker ? "a second one" : "the writing one",
    });
    if (!report.committed) {
      printLineErrors(file, report);
      console.error(
        // The file's own line count (comments and headers too), as an editor shows it.
        `Nothing imported from ${quote(file)}: ${report.errorCount} of ${
          Math.max(progress.lines, report.lines, report.errorCount)
        } lines have errors`,
      );
      return 1;
    }
    await saveIndexAfterWrites(db, config, log);
    const rate = seconds > 0 ? Math.round(report.records / seconds) : report.records;
    console.log(
      `Imported ${report.records} records (${report.keys} keys) into ${
        values.override ? "local overrides" : "the mirror"
      } from ${quote(file)} in ${seconds.toFixed(2)} s (${rate} records/s)`,
    );
    for (const line of repeatSummary(report)) console.log(line);
    return 0;
  } finally {
    db.close();
  }
}

/**
 * Lists the first bad lines as FILE:LINE and, if lines conflicted, how to keep
 * the last of each instead. `pksn feed build` prints its inputs' errors alike.
 */
export function printLineErrors(file: string, report: ImportReport): void {
  for (const e of report.errors) console.error(`${file}:${e.line}: ${e.message}`);
  if (report.errorCount > report.errors.length) {
    console.error(`… and ${report.errorCount - report.errors.length} more`);
  }
  if (report.conflicts > 0) {
    const n = report.conflicts;
    console.error(
      `${quote(file)}: ${n} ${n === 1 ? "line gives" : "lines give"} an earlier line's ` +
        "object other values; --last-wins keeps the last of each",
    );
  }
}

/** What an import that committed did with repeated objects, one sentence a line. */
export function repeatSummary(report: ImportReport): string[] {
  const out: string[] = [];
  if (report.duplicates > 0) {
    out.push(
      `${report.duplicates} ${
        plural(report.duplicates)
      } repeated an earlier line's object with the same values; the last of each was kept`,
    );
  }
  if (report.conflicts > 0) {
    out.push(
      `${report.conflicts} ${
        plural(report.conflicts)
      } overrode an earlier line's verdict, threat or categories (--last-wins)`,
    );
  }
  return out;
}

function plural(n: number): string {
  return n === 1 ? "line" : "lines";
}

const LISTABLE = VERDICTS.filter((v) => v !== "unknown");

/**
 * The format of `file` without --format: a public feed export recognised by its header (said,
 * so the operator knows), else what the file name says.
 */
export async function formatOf(file: string): Promise<string> {
  let head = "";
  try {
    using handle = await Deno.open(file);
    const buffer = new Uint8Array(8192);
    const read = await handle.read(buffer);
    head = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
  } catch {
    // Unreadable: the import itself says why, with the file's name.
  }
  const recognised = recogniseFeed(head);
  if (recognised === undefined) return formatFromName(file);
  console.error(
    `Recognised ${quote(file)} as a ${recognised} export by its header ` +
      `(give --format to read it otherwise)`,
  );
  return recognised;
}

/** The feed format named, with its options, or `undefined` for ndjson and csv. */
function feedSpec(
  format: string,
  flags: { verdict?: string; source?: string },
): FeedSpec | undefined {
  if (format !== "ndjson" && format !== "csv" && !isFeedFormat(format)) {
    const known = ["ndjson", "csv", ...Object.keys(FEED_FORMATS)].map((f) => `"${f}"`).join(", ");
    throw new UsageError(`Unknown format ${quote(format)}: expected one of ${known}`);
  }
  if (flags.verdict !== undefined && format !== "list") {
    throw new UsageError('--verdict applies only to "--format list"');
  }
  if (flags.verdict !== undefined && !(LISTABLE as string[]).includes(flags.verdict)) {
    throw new UsageError(
      `Unknown verdict ${quote(flags.verdict)}: expected one of ${LISTABLE.join(", ")}`,
    );
  }
  if (!isFeedFormat(format)) return undefined;
  return {
    feed: format,
    options: { verdict: flags.verdict as FeedOptions["verdict"], source: flags.source },
  };
}
