/**
 * Importing reputation records from NDJSON or CSV into the mirror or into local
 * overrides. The whole file goes in one transaction: any bad line means nothing
 * is imported, and the report names every bad line by number. Two lines that
 * give one key different verdicts, threats or categories are a bad line too,
 * unless the import is told that the last one wins.
 */
import {
  AppError,
  type CsvRecord,
  csvRecords,
  headerColumns,
  InvalidInputError,
  type NumberedLine,
  parseCsvLine,
  quote,
} from "../core/mod.ts";
import {
  bumpGeneration,
  type DatabaseSync,
  type EntryRow,
  ImportWriter,
  type Origin,
  transactionAsync,
} from "../store/mod.ts";
import { ImportRows } from "./_import_rows.ts";
import { QuickRecords } from "./_quick_record.ts";
import { describeIssue, recordRows, recordSchema } from "../reputation/mod.ts";

/** Input formats `import` reads. */
export type ImportFormat = "ndjson" | "csv";

/**
 * Turns the lines of another format (a public feed) into record objects for
 * {@link recordSchema}, so validation, keys and the transaction stay here.
 */
export interface RecordConverter {
  /**
   * The record a line holds, or `undefined` for a line that holds none (a
   * comment, the header row). Throws an {@link AppError} for a bad line, or a
   * {@link HeaderError} when no later line can be read.
   */
  convert(text: string, line: number): unknown;
}

/** A header row a converter cannot read: reported once, at its own line, and the read stops. */
export class HeaderError extends InvalidInputError {
  /** The line the header is on. */
  readonly line: number;

  constructor(line: number, message: string) {
    super("invalid_header", message);
    this.name = "HeaderError";
    this.line = line;
  }
}

/** Options for {@link importRecords}. */
export interface ImportOptions {
  /** NDJSON, CSV with the record fields as columns, or a converter for another format. */
  format: ImportFormat | RecordConverter;
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
}

const CSV_FIELDS: ReadonlyMap<string, string> = new Map(
  Object.keys(recordSchema.shape).map((name) => [name.toLowerCase(), name]),
);

/** Picks the format from a file name: `.csv` is CSV, anything else NDJSON. */
export function formatFromName(path: string): ImportFormat {
  return path.toLowerCase().endsWith(".csv") ? "csv" : "ndjson";
}

/** Imports records from numbered lines; commits only if every line was good. */
export async function importRecords(
  db: DatabaseSync,
  lines: AsyncIterable<NumberedLine>,
  options: ImportOptions,
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
  };
  const maxReported = options.maxReportedErrors ?? 100;
  const fail = (line: number, message: string): void => {
    report.errorCount++;
    if (report.errors.length < maxReported) report.errors.push({ line, message });
  };
  let header: Map<number, string> | undefined;
  const converter = typeof options.format === "object" ? options.format : undefined;
  const quick = new QuickRecords(options.origin, options.source);

  // Attached before the transaction and detached after it, as SQLite requires.
  using writer = new ImportWriter(db, options.origin);
  const batches = new ImportRows(writer, {
    lastWins: options.lastWins ?? false,
    name: options.name,
    fail,
  });
  report.committed = await transactionAsync(db, async () => {
    // A CSV record's quoted field may span lines; the record counts as its first line.
    const input = options.format === "csv" ? csvRecords(lines) : lines;
    await readAll(input, (number, line) => {
      report.lines = (line as Partial<CsvRecord>).lastNumber ?? number;
      if (line.error !== undefined) return fail(number, line.error);
      const text = line.text;
      if (text.trim() === "") return;
      let raw: unknown;
      try {
        if (converter !== undefined) {
          raw = converter.convert(text, number);
          if (raw === undefined) return;
        } else if (options.format === "csv") {
          if (header === undefined) {
            header = csvHeader(parseCsvLine(text));
            return;
          }
          raw = csvRecord(header, parseCsvLine(text));
        } else {
          raw = JSON.parse(text);
        }
      } catch (err) {
        if (err instanceof HeaderError) {
          fail(err.line, err.message);
          return STOP;
        }
        fail(number, err instanceof SyntaxError ? `not JSON: ${err.message}` : messageOf(err));
        // Without a header no later row can be read; one error says it all.
        return header === undefined && options.format === "csv" ? STOP : undefined;
      }
      let rows: readonly EntryRow[] | undefined;
      try {
        rows = quick.rows(raw);
        if (rows === undefined) {
          const parsed = recordSchema.safeParse(raw);
          if (!parsed.success) return fail(number, describeIssue(parsed.error));
          rows = recordRows(parsed.data, options.origin, options.source);
        }
      } catch (err) {
        return fail(number, messageOf(err));
      }
      report.records++;
      report.keys += rows.length;
      // Rows are written even after an error, so that every conflict is reported.
      batches.add(rows, number);
    }, (err) => fail(report.lines + 1, messageOf(err)));
    if (options.format === "csv" && header === undefined && report.errorCount === 0) {
      fail(1, "CSV has no header row");
    }
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

const STOP = Symbol("stop");

/**
 * Feeds every line to `each` until it returns {@link STOP}. A read error that
 * ends the input early (a line over the length cap) goes to `onReadError`.
 */
async function readAll(
  lines: AsyncIterable<NumberedLine>,
  each: (number: number, line: NumberedLine) => typeof STOP | void,
  onReadError: (err: unknown) => void,
): Promise<void> {
  try {
    for await (const line of lines) {
      if (each(line.number, line) === STOP) return;
    }
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    onReadError(err);
  }
}

function csvHeader(fields: string[]): Map<number, string> {
  const header = new Map<number, string>();
  for (const [name, position] of headerColumns(fields)) {
    const field = CSV_FIELDS.get(name);
    if (field === undefined) {
      throw new AppError(
        "invalid",
        "invalid_csv",
        `Unknown CSV column ${quote(name)}; allowed: ${[...CSV_FIELDS.values()].join(", ")}`,
      );
    }
    header.set(position, field);
  }
  for (const required of ["type", "verdict"]) {
    if (![...header.values()].includes(required)) {
      throw new AppError(
        "invalid",
        "invalid_csv",
        `CSV header lacks the ${quote(required)} column`,
      );
    }
  }
  return header;
}

function csvRecord(header: Map<number, string>, fields: string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [position, field] of header) {
    const cell = fields[position]?.trim();
    if (cell === undefined || cell === "") continue;
    if (field === "categories") {
      record[field] = cell.split(";").map((c) => c.trim()).filter(Boolean);
    } else if (field === "ttl") record[field] = /^\d+$/.test(cell) ? Number(cell) : cell;
    else if ((field === "firstSeen" || field === "lastSeen") && /^\d+$/.test(cell)) {
      record[field] = Number(cell);
    } else record[field] = cell;
  }
  return record;
}

function messageOf(err: unknown): string {
  if (err instanceof AppError) return err.message;
  throw err;
}
