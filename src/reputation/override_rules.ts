/**
 * What an operator's override may say: an object (checked and keyed exactly as an imported
 * record's), an allow or block verdict, a reason, and optionally an expiry in the future.
 */
import { z } from "zod";
import { AppError, InvalidInputError, quote, toHex } from "../core/mod.ts";
import { recordKeys } from "./records.ts";
import { OBJECT_TYPES, type ObjectType, type Verdict, VERDICTS } from "./types.ts";

/** One of {@link OVERRIDE_VERDICTS}. */
export type OverrideVerdict = Exclude<Verdict, "unknown">;

/** "clean" allows an object; every other verdict blocks it. "unknown" is no override. */
export const OVERRIDE_VERDICTS = VERDICTS.filter((v): v is OverrideVerdict => v !== "unknown") as [
  OverrideVerdict,
  ...OverrideVerdict[],
];

// The record rules (records.ts): a time needs a zone, or it would be read in the server's own;
// control and format characters are searched for, so the cost stays linear on long text.
const ISO_8601 = /^\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d))?$/;
const LATEST_MS = 32503680000 * 1000; // the year 3000
const NOT_PRINTABLE = /\p{C}/u;
/** The longest reason. */
export const MAX_REASON = 500;
/** How many bad lines an import's error names. */
const REPORTED_LINES = 5;

const type = z.enum(OBJECT_TYPES, { error: `expected one of ${OBJECT_TYPES.join(", ")}` });
const value = z.string({ error: "expected the hash, URL, domain, IP address or thumbprint" })
  .min(1, { error: "expected the hash, URL, domain, IP address or thumbprint" }).max(8192);
const verdict = z.enum(OVERRIDE_VERDICTS, {
  error: `expected "clean" (allow) or one of malicious, phishing, adware, suspicious (block)`,
});
const reason = z.string({ error: `expected a reason of 1 to ${MAX_REASON} characters` })
  .max(MAX_REASON).refine((s) => s.trim() !== "", {
    message: `expected a reason of 1 to ${MAX_REASON} characters`,
  }).refine((s) => !NOT_PRINTABLE.test(s), {
    message: "expected printable text: no control characters",
  });
const expires = z.string().refine((s) => {
  const ms = ISO_8601.test(s) ? Date.parse(s) : NaN;
  return ms >= 0 && ms <= LATEST_MS;
}, { message: 'expected an ISO 8601 date such as "2026-12-31" or "2026-12-31T18:00:00Z"' });

/** The object an override is about. */
export const overrideTargetSchema = z.strictObject({ type, value });
/** A new override (or one that replaces the override of the same object). */
export const overrideAddSchema = z.strictObject({
  type,
  value,
  verdict,
  reason,
  expires: expires.optional(),
});
/** Changes to an override; `expires: null` removes its expiry. */
export const overrideEditSchema = z.strictObject({
  type,
  value,
  verdict: verdict.optional(),
  reason: reason.optional(),
  expires: expires.nullable().optional(),
});
/** What every value of an imported list becomes (a list is one type). */
export const overrideListSchema = z.strictObject({
  type,
  verdict,
  reason,
  expires: expires.optional(),
});

/** An object an override is about, as received. */
export type OverrideTarget = z.infer<typeof overrideTargetSchema>;
/** A new override, as received. */
export type OverrideAdd = z.infer<typeof overrideAddSchema>;
/** Changes to an override, as received. */
export type OverrideEdit = z.infer<typeof overrideEditSchema>;
/** What an imported list's values become, as received. */
export type OverrideListOptions = z.infer<typeof overrideListSchema>;

/** The key an override of `value` is stored under; throws {@link InvalidInputError}. */
export function overrideKey(type: ObjectType, value: string): Uint8Array {
  // The record rules, so an override lands on the key an imported record of it would:
  // a URL's expression, a domain's normal form, a network masked to its prefix.
  return recordKeys({ type, value, verdict: "clean" })[0];
}

/**
 * An expiry as Unix seconds, rounded up so it never falls before the time asked for; a date
 * alone means 00:00 UTC. Throws {@link InvalidInputError} unless it lies after `nowMs`.
 */
export function expirySeconds(text: string, nowMs: number): number {
  const ms = Date.parse(text);
  if (!(ms > nowMs)) {
    throw new InvalidInputError(
      "invalid_request",
      `Invalid override "expires": ${quote(text)} is not in the future`,
    );
  }
  return Math.ceil(ms / 1000);
}

/**
 * The keys of a list of values of one type, one value a line: blank lines and `#` comments
 * (at the start of a line or after whitespace; in a URL `#` starts the fragment) are skipped,
 * and a key listed twice counts once. Throws {@link InvalidInputError} naming the first bad
 * lines, so a list goes in whole or not at all.
 */
export function overrideListKeys(text: string, type: ObjectType): Uint8Array[] {
  const keys = new Map<string, Uint8Array>();
  const errors: string[] = [];
  let bad = 0;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const entry = lines[i].replace(/(?:^|\s)#.*$/, "").trim();
    if (entry === "") continue;
    try {
      if (/\s/.test(entry)) {
        throw new InvalidInputError(
          "invalid_list",
          `expected one value a line, got ${quote(entry)}`,
        );
      }
      const key = overrideKey(type, entry);
      keys.set(toHex(key), key);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      if (++bad <= REPORTED_LINES) errors.push(`line ${i + 1}: ${err.message}`);
    }
  }
  if (bad > 0) {
    const more = bad > REPORTED_LINES ? `; and ${bad - REPORTED_LINES} more bad lines` : "";
    throw new InvalidInputError(
      "invalid_list",
      `Cannot import the list, nothing was imported: ${errors.join("; ")}${more}`,
    );
  }
  if (keys.size === 0) {
    throw new InvalidInputError("invalid_list", "Cannot import the list: it holds no values");
  }
  return [...keys.values()];
}
