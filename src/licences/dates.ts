/** Dates and durations as operators type them. */
import { InvalidInputError, isoSeconds, quote } from "../core/mod.ts";

// Licence dates are shown as the rest of the node shows times.
export { isoSeconds };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DURATION = /^(\d+)\s*(d|h|m|s)$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = { d: 86400, h: 3600, m: 60, s: 1 };

/**
 * A calendar date `YYYY-MM-DD` (UTC) as Unix seconds of its start, or of its
 * end when `endOfDay` (a licence that expires on a date is valid through it).
 */
export function parseDate(text: string, field: string, endOfDay = false): number {
  const m = DATE.exec(text.trim());
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (endOfDay ? 1 : 0)) : NaN;
  const check = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (
    !m || Number.isNaN(ms) || check!.getUTCDate() !== Number(m[3]) ||
    check!.getUTCMonth() !== Number(m[2]) - 1
  ) {
    throw new InvalidInputError(
      "invalid_date",
      `Invalid ${field} ${quote(text)}: expected a date as YYYY-MM-DD`,
    );
  }
  return ms / 1000;
}

/** A duration such as `14d`, `36h`, `90m` or `30s`, in seconds. */
export function parseDuration(text: string, field: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) {
    throw new InvalidInputError(
      "invalid_duration",
      `Invalid ${field} ${
        quote(text)
      }: expected a number and a unit, such as "14d", "36h" or "90m"`,
    );
  }
  return Number(m[1]) * UNIT_SECONDS[m[2]];
}
