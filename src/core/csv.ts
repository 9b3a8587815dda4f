/**
 * RFC 4180 CSV for header-addressed files: {@link csvRecords} joins the physical lines of a
 * record whose quoted field spans lines, {@link parseCsvLine} splits a record into fields.
 */
import { InvalidInputError } from "./errors.ts";
import type { NumberedLine } from "./lines.ts";

/** One CSV record: the text of its lines joined by "\n", from line `number` to `lastNumber`. */
export interface CsvRecord extends NumberedLine {
  lastNumber: number;
}

/**
 * Joins lines into CSV records: while a quoted field is open at a line's end, the next line
 * belongs to the same record (with the line break kept in the field). An open quote at the
 * end of input, or a record over `maxRecordChars`, is passed on as it stands, so
 * {@link parseCsvLine} reports the unterminated quote at the record's first line. A line that
 * is not text (`error` set) ends any open record and is passed on for the caller to report.
 */
export async function* csvRecords(
  lines: AsyncIterable<NumberedLine>,
  options: { separator?: string; maxRecordChars?: number } = {},
): AsyncGenerator<CsvRecord> {
  const separator = options.separator ?? ",";
  const max = options.maxRecordChars ?? 1_048_576;
  let open: CsvRecord | undefined;
  for await (const line of lines) {
    if (line.error !== undefined) {
      if (open !== undefined) yield open;
      open = undefined;
      yield { ...line, lastNumber: line.number };
      continue;
    }
    const record: CsvRecord = open === undefined
      ? { number: line.number, text: line.text, lastNumber: line.number }
      : { number: open.number, text: `${open.text}\n${line.text}`, lastNumber: line.number };
    if (endsInsideQuotes(record.text, separator) && record.text.length <= max) {
      open = record;
    } else {
      open = undefined;
      yield record;
    }
  }
  if (open !== undefined) yield open;
}

/** Whether `text` ends inside a quoted field, read as {@link parseCsvLine} reads it. */
function endsInsideQuotes(text: string, separator: string): boolean {
  let i = 0;
  while (i <= text.length) {
    if (text.charCodeAt(i) === 34) {
      i++;
      while (true) {
        const q = text.indexOf('"', i);
        if (q === -1) return true;
        if (text.charCodeAt(q + 1) === 34) {
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
    }
    const next = text.indexOf(separator, i);
    if (next === -1) return false;
    i = next + 1;
  }
  return false;
}

/**
 * Splits one CSV record into fields. Quoted fields may hold commas, doubled quotes and (in a
 * record from {@link csvRecords}) line breaks; a quote that never closes is an error.
 */
export function parseCsvLine(line: string, separator = ","): string[] {
  const fields: string[] = [];
  let i = 0;
  while (true) {
    if (line.charCodeAt(i) === 34) {
      let value = "";
      i++;
      while (true) {
        const q = line.indexOf('"', i);
        if (q === -1) {
          throw new InvalidInputError("invalid_csv", "Unterminated quoted field");
        }
        value += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i >= line.length) return fields;
      if (line[i] !== separator) {
        throw new InvalidInputError(
          "invalid_csv",
          `Expected ${JSON.stringify(separator)} after a quoted field at column ${i + 1}`,
        );
      }
      i++;
    } else {
      const next = line.indexOf(separator, i);
      if (next === -1) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, next));
      i = next + 1;
    }
  }
}

/** Maps a CSV header row to column positions; names are trimmed and lower-cased. */
export function headerColumns(fields: readonly string[]): Map<string, number> {
  const columns = new Map<string, number>();
  fields.forEach((name, i) => {
    const key = name.trim().replace(/^#\s*/, "").toLowerCase();
    if (key && !columns.has(key)) columns.set(key, i);
  });
  return columns;
}
