/**
 * The shared reader of abuse.ch CSV exports: `#` comment lines, a header row
 * that is itself a comment, double-quoted fields, and columns read by name.
 */
import { headerColumns, InvalidInputError, quote } from "../core/mod.ts";
import { HeaderError, type RecordConverter } from "./_converter.ts";

/** One data row, read by column name. */
export interface FeedRow {
  /** The cell's trimmed text, or `undefined` when it is empty, "n/a" or "None". */
  get(column: string): string | undefined;
  /** Like {@link FeedRow.get}, but an empty cell is an error naming the column. */
  require(column: string): string;
}

/** What one CSV feed format needs: its name, required columns and the row mapping. */
export interface CsvFeedSpec {
  /** Name for messages, e.g. "URLhaus". */
  name: string;
  /** Columns every row needs; the first also recognises an uncommented header row. */
  required: readonly [string, ...string[]];
  /** The record object of one row, for `recordSchema`. */
  toRecord(row: FeedRow): Record<string, unknown>;
}

// Feeds write "n/a" or "None" where they have no value; both mean empty here.
const EMPTY = new Set(["", "n/a", "none"]);

/** A converter for a header-addressed CSV feed. */
export function csvFeedConverter(spec: CsvFeedSpec): RecordConverter {
  let header: Map<string, number> | undefined;
  let width = 0;
  let lastComment: { line: number; text: string } | undefined;
  const row = new CsvFeedRow();

  function readHeader(text: string, line: number): Map<string, number> {
    const columns = headerColumns(splitFeedCsv(text.trim().replace(/^#\s*/, "")));
    for (const column of spec.required) {
      if (!columns.has(column)) {
        throw new HeaderError(
          line,
          `${spec.name} header lacks the ${quote(column)} column; found: ${
            [...columns.keys()].join(", ") || "none"
          }`,
        );
      }
    }
    return columns;
  }

  return {
    convert: function convertFeedLine(text: string, line: number): unknown {
      if (text.trimStart().startsWith("#")) {
        if (header === undefined && /[^#\s]/.test(text)) lastComment = { line, text };
        return undefined;
      }
      const fields = splitFeedCsv(text);
      if (header === undefined) {
        // Exports carry the header as the last comment before the data; a file
        // whose comments were stripped has it as the first plain line instead.
        const plain = headerColumns(fields);
        if (plain.has(spec.required[0])) {
          header = readHeader(text, line);
          width = Math.max(...header.values()) + 1;
          return undefined;
        }
        if (lastComment === undefined) {
          throw new HeaderError(
            line,
            `${spec.name} data starts before a header row naming ${quote(spec.required[0])}`,
          );
        }
        header = readHeader(lastComment.text, lastComment.line);
        width = Math.max(...header.values()) + 1;
      }
      if (fields.length < width) {
        throw new InvalidInputError(
          "invalid_csv",
          `Row has ${fields.length} fields; the header names ${width}`,
        );
      }
      row.reset(header, fields);
      return spec.toRecord(row);
    },
  };
}

class CsvFeedRow implements FeedRow {
  #header: Map<string, number> = new Map();
  #fields: string[] = [];

  reset(header: Map<string, number>, fields: string[]): void {
    this.#header = header;
    this.#fields = fields;
  }

  get(column: string): string | undefined {
    const position = this.#header.get(column);
    const cell = position === undefined ? undefined : this.#fields[position]?.trim();
    return cell === undefined || EMPTY.has(cell.toLowerCase()) ? undefined : cell;
  }

  require(column: string): string {
    const cell = this.get(column);
    if (cell === undefined) {
      throw new InvalidInputError("invalid_record", `Column ${quote(column)} is empty`);
    }
    return cell;
  }
}

/**
 * Splits one line into fields. Like RFC 4180, but spaces around a quoted field
 * are allowed: MalwareBazaar and ThreatFox separate fields with `", "`.
 */
export function splitFeedCsv(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (true) {
    while (text[i] === " " || text[i] === "\t") i++;
    if (text[i] === '"') {
      let value = "";
      i++;
      while (true) {
        const q = text.indexOf('"', i);
        if (q === -1) throw csvError("unterminated quoted field");
        value += text.slice(i, q);
        i = q + 1;
        if (text[i] !== '"') break;
        value += '"';
        i++;
      }
      fields.push(value);
      while (text[i] === " " || text[i] === "\t") i++;
      if (i >= text.length) return fields;
      if (text[i] !== ",") throw csvError(`expected "," after a quoted field at column ${i + 1}`);
      i++;
    } else {
      const next = text.indexOf(",", i);
      if (next === -1) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, next));
      i = next + 1;
    }
  }
}

function csvError(detail: string): InvalidInputError {
  return new InvalidInputError("invalid_csv", `Not CSV: ${detail}`);
}

/**
 * abuse.ch writes UTC times as "2024-05-01 12:34:56" (sometimes with " UTC");
 * `Date.parse` would read that as local time, so it becomes ISO 8601 with "Z".
 */
export function utcTimestamp(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(?:\s*UTC|Z)?$/i.exec(text);
  return m ? `${m[1]}T${m[2]}Z` : text;
}

const MAX_CATEGORIES = 32;
const MAX_CATEGORY_LENGTH = 64;
const NOT_PRINTABLE = /\p{C}/u;

/**
 * Comma-separated tags as record categories, de-duplicated. Tags a category
 * may not be (longer than 64 characters, or with control characters), and any
 * past the 32nd, are left out rather than failing a feed.
 */
export function tagList(...cells: (string | undefined)[]): string[] | undefined {
  const tags = new Set<string>();
  for (const cell of cells) {
    for (const tag of cell?.split(",") ?? []) {
      const t = tag.trim();
      if (
        t && !EMPTY.has(t.toLowerCase()) && t.length <= MAX_CATEGORY_LENGTH &&
        !NOT_PRINTABLE.test(t)
      ) {
        tags.add(t);
      }
    }
  }
  return tags.size ? [...tags].slice(0, MAX_CATEGORIES) : undefined;
}
