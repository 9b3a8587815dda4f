/**
 * Importing reputation records from NDJSON or CSV into the mirror or into local
 * overrides. The whole file goes in one transaction: any bad line means nothing
 * is imported, and the report names every bad line by number. Two lines that
 * give one key different verdicts, threats or categories are a bad line too,
 * unless the import is told that the last one wins.
 */
import { type NumberedLine, readLines } from "../core/mod.ts";
import {
  bumpGeneration,
  type DatabaseSync,
  type EntryRow,
  ImportWriter,
  type Origin,
  transactionAsync,
} from "../store/mod.ts";
import { ImportRows } from "./_import_rows.ts";
import {
  type FeedSpec,
  type ImportFormat,
  type LineFormat,
  type ParsedSink,
  type ParseEnd,
  parseLines,
} from "./_line_parser.ts";
import { ParseWorker } from "./parse_worker.ts";

export {
  type FeedSpec,
  HeaderError,
  type ImportFormat,
  type LineFormat,
  type RecordConverter,
} from "./_line_parser.ts";

/** Options for {@link importRecords}. */
export interface ImportOptions {
  /** NDJSON, CSV with the record fields as columns, or another format (a converter, or by name). */
  format: LineFormat;
  origin: Origin;
  /** Source name for records that do not carry one. */
  source: string;
  /** How many line errors to keep in the report (all are counted). */
  maxReportedErrors?: number;
  /**
   * Keep the last of lines that give one key different verdicts, threats or
   * categories, instead of failing the later ones; default false.
   */
  lastWins?: boolean;
  /** Names the input where a message points at another of its lines ("FILE" gives "FILE:12"). */
  name?: string;
}

/** A line that could not be imported. */
export interface LineError {
  line: number;
  message: string;
}

/** What an import did. */
export interface ImportReport {
  lines: number;
  records: number;
  keys: number;
  errorCount: number;
  /** The first errors, in line order. */
  errors: LineError[];
  committed: boolean;
  /** Lines that repeat an earlier line's key with the same verdict, threat and categories. */
  duplicates: number;
  /** Lines that give an earlier line's key other values: errors, or overrides with `lastWins`. */
  conflicts: number;
  /** Whether the lines were read and checked on a worker thread, beside the writes. */
  parsedOnWorker: boolean;
}

/** Picks the format from a file name: `.csv` is CSV, anything else NDJSON. */
export function formatFromName(path: string): ImportFormat {
  return path.toLowerCase().endsWith(".csv") ? "csv" : "ndjson";
}

/** Imports records from numbered lines, read on this thread; commits only if every line was good. */
export async function importRecords(
  db: DatabaseSync,
  lines: AsyncIterable<NumberedLine>,
  options: ImportOptions,
): Promise<ImportReport> {
  return await importParsed(db, options, async (sink) => ({
    end: await parseLines(lines, options, sink),
    onWorker: false,
  }));
}

/**
 * Imports records from a byte stream, as {@link importRecords} does. Its lines are read and
 * checked on a worker thread while this one writes the rows, when a worker can start and the
 * format is plain data (a converter object cannot cross threads); otherwise on this thread.
 */
export async function importBytes(
  db: DatabaseSync,
  bytes: ReadableStream<Uint8Array>,
  options: ImportOptions,
): Promise<ImportReport> {
  const format = options.format;
  if (typeof format !== "string" && !("feed" in format)) {
    return await importRecords(db, readLines(bytes), options);
  }
  const worker = ParseWorker.start();
  try {
    return await importParsed(db, options, async (sink) => {
      const job = {
        format: format as ImportFormat | FeedSpec,
        origin: options.origin,
        source: options.source,
      };
      const end = await worker.parse(job, bytes, sink);
      if (end !== null) return { end, onWorker: true };
      return { end: await parseLines(readLines(bytes), options, sink), onWorker: false };
    });
  } finally {
    worker.close();
  }
}

/** The import around its reading: the writer, the transaction, the report. */
async function importParsed(
  db: DatabaseSync,
  options: ImportOptions,
  parse: (sink: ParsedSink) => Promise<{ end: ParseEnd; onWorker: boolean }>,
): Promise<ImportReport> {
  const report: ImportReport = {
    lines: 0,
    records: 0,
    keys: 0,
    errorCount: 0,
    errors: [],
    committed: false,
    duplicates: 0,
    conflicts: 0,
    parsedOnWorker: false,
  };
  const maxReported = options.maxReportedErrors ?? 100;
  const fail = (line: number, message: string): void => {
    report.errorCount++;
    if (report.errors.length < maxReported) report.errors.push({ line, message });
  };

  // Attached before the transaction and detached after it, as SQLite requires.
  using writer = new ImportWriter(db, options.origin);
  const batches = new ImportRows(writer, {
    lastWins: options.lastWins ?? false,
    name: options.name,
    fail,
  });
  const sink: ParsedSink = {
    rows(rows: readonly EntryRow[], line: number): void {
      report.records++;
      report.keys += rows.length;
      // Rows are written even after an error, so that every conflict is reported.
      batches.add(rows, line);
    },
    fail,
  };
  report.committed = await transactionAsync(db, async () => {
    const { end, onWorker } = await parse(sink);
    report.lines = end.lines;
    report.parsedOnWorker = onWorker;
    if (end.csvWithoutHeader && report.errorCount === 0) fail(1, "CSV has no header row");
    batches.finish();
    report.duplicates = batches.duplicates;
    report.conflicts = batches.conflicts;
    // Conflicts are found at the end, after every line was read.
    report.errors.sort((a, b) => a.line - b.line);
    if (report.errorCount > 0) return false;
    bumpGeneration(db, "entries");
    return true;
  });
  return report;
}
