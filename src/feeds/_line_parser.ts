/**
 * The reading half of an import: numbered lines in, each line's rows or its error out. It holds
 * no database, so it runs on the import's own thread or on a parse worker (parse_worker.ts)
 * alike; what the rows become is the sink's business.
 */
import {
  AppError,
  type CsvRecord,
  csvRecords,
  headerColumns,
  type NumberedLine,
  parseCsvLine,
  quote,
} from "../core/mod.ts";
import type { EntryRow, Origin } from "../store/mod.ts";
import { describeIssue, recordRows, recordSchema } from "../reputation/mod.ts";
import { FEED_FORMATS, type FeedOptions, isFeedFormat } from "./formats.ts";
import { QuickRecords } from "./_quick_record.ts";
import { HeaderError, type RecordConverter } from "./_converter.ts";

export { HeaderError, type RecordConverter };

/** Input formats `import` reads. */
export type ImportFormat = "ndjson" | "csv";

/** A feed format by its name in FEED_FORMATS, with its options: plain data, so a worker can take it. */
export interface FeedSpec {
  feed: string;
  options?: FeedOptions;
}

/** What an import reads: NDJSON, CSV with the record fields as columns, or another format. */
export type LineFormat = ImportFormat | RecordConverter | FeedSpec;

/** Where a parser's results go. */
export interface ParsedSink {
  /** The rows of the record on `line`; the array may be reused by the next call. */
  rows(rows: readonly EntryRow[], line: number): void;
  /** A line that could not be read. */
  fail(line: number, message: string): void;
}

/** What reading every line found besides rows and errors. */
export interface ParseEnd {
  /** The number of the last line read (a CSV record's last physical line). */
  lines: number;
  /** A CSV input ended without a header row. */
  csvWithoutHeader: boolean;
}

const CSV_FIELDS: ReadonlyMap<string, string> = new Map(
  Object.keys(recordSchema.shape).map((name) => [name.toLowerCase(), name]),
);

/**
 * Reads every line into `sink`, until the input ends or a line says no later line can be read.
 * A read error that ends the input early (a line over the length cap) is a failed line too.
 */
export async function parseLines(
  lines: AsyncIterable<NumberedLine>,
  options: { format: LineFormat; origin: Origin; source: string },
  sink: ParsedSink,
): Promise<ParseEnd> {
  const parser = new LineParser(options.format, options.origin, options.source);
  const input = options.format === "csv" ? csvRecords(lines) : lines;
  try {
    for await (const line of input) {
      if (!parser.read(line, sink)) break;
    }
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    sink.fail(parser.lines + 1, err.message);
  }
  return { lines: parser.lines, csvWithoutHeader: parser.csvWithoutHeader };
}

/** One import's reading of its lines, a line at a time; keeps a CSV's header. */
class LineParser {
  readonly #format: ImportFormat | undefined;
  readonly #converter: RecordConverter | undefined;
  readonly #quick: QuickRecords;
  readonly #origin: Origin;
  readonly #source: string;
  #header: Map<number, string> | undefined;
  /** The number of the last line read. */
  lines = 0;

  constructor(format: LineFormat, origin: Origin, source: string) {
    if (typeof format === "string") this.#format = format;
    else this.#converter = "feed" in format ? feedConverter(format) : format;
    this.#quick = new QuickRecords(origin, source);
    this.#origin = origin;
    this.#source = source;
  }

  get csvWithoutHeader(): boolean {
    return this.#format === "csv" && this.#header === undefined;
  }

  /** Reads one line into `sink`; false when no later line can be read. */
  read(line: NumberedLine, sink: ParsedSink): boolean {
    const number = line.number;
    this.lines = (line as Partial<CsvRecord>).lastNumber ?? number;
    if (line.error !== undefined) {
      sink.fail(number, line.error);
      return true;
    }
    const text = line.text;
    if (text.trim() === "") return true;
    let raw: unknown;
    try {
      if (this.#converter !== undefined) {
        raw = this.#converter.convert(text, number);
        if (raw === undefined) return true;
      } else if (this.#format === "csv") {
        if (this.#header === undefined) {
          this.#header = csvHeader(parseCsvLine(text));
          return true;
        }
        raw = csvRecord(this.#header, parseCsvLine(text));
      } else {
        raw = JSON.parse(text);
      }
    } catch (err) {
      if (err instanceof HeaderError) {
        sink.fail(err.line, err.message);
        return false;
      }
      sink.fail(number, err instanceof SyntaxError ? `not JSON: ${err.message}` : messageOf(err));
      // Without a header no later row can be read; one error says it all.
      return !this.csvWithoutHeader;
    }
    let rows: readonly EntryRow[] | undefined;
    try {
      rows = this.#quick.rows(raw);
      if (rows === undefined) {
        const parsed = recordSchema.safeParse(raw);
        if (!parsed.success) {
          sink.fail(number, describeIssue(parsed.error));
          return true;
        }
        rows = recordRows(parsed.data, this.#origin, this.#source);
      }
    } catch (err) {
      sink.fail(number, messageOf(err));
      return true;
    }
    sink.rows(rows, number);
    return true;
  }
}

function feedConverter(spec: FeedSpec): RecordConverter {
  if (!isFeedFormat(spec.feed)) {
    throw new AppError("invalid", "invalid_format", `Unknown feed format ${quote(spec.feed)}`);
  }
  return FEED_FORMATS[spec.feed](spec.options);
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
