/** RFC 4180 CSV fields, one physical line at a time, for header-addressed files. */
import { InvalidInputError } from "./errors.ts";

/**
 * Splits one CSV line into fields. Quoted fields may hold commas and doubled
 * quotes; a field spanning lines is not supported (reputation feeds do not use
 * them) and is reported as an unterminated quote.
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
