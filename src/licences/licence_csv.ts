/**
 * A customer's licence keys as a CSV file (the service provider's bulk
 * registration), and the small value parsers the CLI shares with it.
 */
import {
  csvRecords,
  headerColumns,
  InvalidInputError,
  parseCsvLine,
  quote,
  readLines,
} from "../core/mod.ts";
import { parseDate } from "./dates.ts";
import type { NewLicence } from "./licence_service.ts";
import { CLIENT_MODES, type ClientMode } from "./modes.ts";

/** Parses a list of participation modes separated by "," or ";". */
export function parseModes(text: string | undefined): ClientMode[] | undefined {
  if (text === undefined) return undefined;
  const modes = text.split(/[;,]/).map((m) => m.trim()).filter(Boolean);
  for (const mode of modes) {
    if (!(CLIENT_MODES as readonly string[]).includes(mode)) {
      throw new InvalidInputError(
        "invalid_mode",
        `Unknown participation mode ${quote(mode)}: expected ${CLIENT_MODES.join(", ")}`,
      );
    }
  }
  return modes as ClientMode[];
}

/** Parses a requests-per-minute quota; empty means none. */
export function parseQuota(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new InvalidInputError(
      "invalid_quota",
      `Invalid quota ${quote(text)}: expected a whole number of requests per minute, at least 1`,
    );
  }
  return Number(text);
}

const CSV_COLUMNS = ["key", "customer", "expires", "valid_from", "quota", "modes", "notes"];

/** Reads a licence CSV file; every bad line is reported together, with its number. */
export async function readLicenceCsv(
  path: string,
): Promise<{ line: number; licence: NewLicence }[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    throw new InvalidInputError(
      "unreadable",
      `Cannot read ${quote(path)}: ${(err as Error).message}`,
    );
  }
  return await readLicenceCsvStream(file.readable, (line) => `${path}:${line}`, path);
}

/**
 * Reads a licence CSV from `stream`; `where(line)` names a line in errors and `name` the whole
 * input ("the file is empty").
 */
export async function readLicenceCsvStream(
  stream: ReadableStream<Uint8Array>,
  where: (line: number) => string,
  name: string,
): Promise<{ line: number; licence: NewLicence }[]> {
  let columns: Map<string, number> | undefined;
  const out: { line: number; licence: NewLicence }[] = [];
  const errors: string[] = [];
  for await (const { number, text, error } of csvRecords(readLines(stream))) {
    try {
      if (error !== undefined) throw new InvalidInputError("invalid_csv", error);
      if (text.trim() === "") continue;
      const fields = parseCsvLine(text);
      if (columns === undefined) {
        columns = headerColumns(fields);
        const unknown = [...columns.keys()].filter((c) => !CSV_COLUMNS.includes(c));
        if (unknown.length) {
          throw new InvalidInputError(
            "invalid_csv",
            `unknown column ${quote(unknown[0])}; allowed: ${CSV_COLUMNS.join(", ")}`,
          );
        }
        for (const required of ["key", "customer", "expires"]) {
          if (!columns.has(required)) {
            throw new InvalidInputError(
              "invalid_csv",
              `header lacks the ${quote(required)} column`,
            );
          }
        }
        continue;
      }
      const cell = (name: string): string | undefined => {
        const i = columns!.get(name);
        const v = i === undefined ? undefined : fields[i]?.trim();
        return v === "" ? undefined : v;
      };
      const key = cell("key");
      const customer = cell("customer");
      const expires = cell("expires");
      if (!key || !customer || !expires) {
        throw new InvalidInputError("invalid_csv", "key, customer and expires are required");
      }
      const validFrom = cell("valid_from");
      out.push({
        line: number,
        licence: {
          key,
          customer,
          expires: parseDate(expires, "expires", true),
          validFrom: validFrom === undefined ? undefined : parseDate(validFrom, "valid_from"),
          quota: parseQuota(cell("quota")),
          modes: parseModes(cell("modes")),
          notes: cell("notes") ?? null,
        },
      });
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      errors.push(`${where(number)}: ${err.message}`);
      if (columns === undefined) break;
    }
  }
  if (columns === undefined && errors.length === 0) errors.push(`${name}: the file is empty`);
  if (errors.length) {
    throw new InvalidInputError(
      "invalid_csv",
      `${errors.join("\n")}\nNothing imported: ${errors.length} line(s) have errors`,
    );
  }
  return out;
}
