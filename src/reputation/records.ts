/**
 * Reputation records as they enter the node from files: one zod schema, then
 * normalisation into the canonical values the record is stored under.
 */
import { z } from "zod";
import { InvalidInputError, quote } from "../core/mod.ts";
import type { EntryRow, Origin } from "../store/mod.ts";
import { scanDigest, scanThumbprint } from "./hash.ts";
import { normalizeDomain } from "./domain.ts";
import { maskTo, parseNetwork } from "./ip.ts";
import { canonicalizeUrl, expressionOf } from "./url.ts";
import { digestKeyFromHex, ipKey, textKey } from "./keys.ts";
import { OBJECT_TYPES, VERDICT_CODE, VERDICTS } from "./types.ts";

const LISTABLE_VERDICTS = VERDICTS.filter((v) => v !== "unknown") as [string, ...string[]];

/** The record schema's limits, for checks that must agree with it (feeds/_quick_record.ts). */
export const RECORD_LIMITS = {
  value: 8192,
  threat: 256,
  category: 64,
  categories: 32,
  source: 64,
  ttl: 2_592_000,
  // Unix seconds from 1970 up to the year 3000, as a number or ISO 8601 text.
  latestSeconds: 32503680000,
} as const;
const LATEST_SECONDS = RECORD_LIMITS.latestSeconds;
// Date.parse alone takes "1" (2001) or "May 5"; a time needs a zone, or it would
// be read in the importing machine's own.
const ISO_8601 = /^\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d))?$/;
const ISO_MESSAGE = 'expected an ISO 8601 date such as "2026-11-28" or "2026-11-28T12:00:00Z"';

const timestamp = z.union([
  z.number().int().min(0).max(LATEST_SECONDS),
  z.string().refine((s) => {
    const ms = ISO_8601.test(s) ? Date.parse(s) : NaN;
    return ms >= 0 && ms <= LATEST_SECONDS * 1000;
  }, { message: ISO_MESSAGE }),
]);

// Control, format and unassigned characters; searched for, never matched whole,
// so the cost stays linear and the stack flat on long text.
const NOT_PRINTABLE = /\p{C}/u;
const printable = (max: number): z.ZodString =>
  z.string().min(1).max(max).refine((s) => !NOT_PRINTABLE.test(s), {
    message: "expected printable text: no control characters",
  });

/** One record line, as NDJSON carries it (CSV rows are converted to this shape). */
export const recordSchema = z.strictObject({
  type: z.enum(OBJECT_TYPES),
  value: z.string().min(1).max(RECORD_LIMITS.value).optional(),
  md5: z.string().optional(),
  sha1: z.string().optional(),
  sha256: z.string().optional(),
  verdict: z.enum(LISTABLE_VERDICTS, {
    error: `expected one of ${LISTABLE_VERDICTS.join(", ")}`,
  }),
  threat: printable(RECORD_LIMITS.threat).optional(),
  categories: z.array(printable(RECORD_LIMITS.category)).max(RECORD_LIMITS.categories).optional(),
  ttl: z.number().int().min(0).max(RECORD_LIMITS.ttl).optional(),
  firstSeen: timestamp.optional(),
  lastSeen: timestamp.optional(),
  source: printable(RECORD_LIMITS.source).optional(),
});

/** A record that passed the schema. */
export type RecordInput = z.infer<typeof recordSchema>;

/** Formats the first schema issue as `"field": problem`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue.code === "unrecognized_keys") {
    return `unknown field ${quote(issue.keys[0])}; allowed: ${
      Object.keys(recordSchema.shape).join(", ")
    }`;
  }
  const path = issue.path.length ? `${quote(issue.path.join("."))}: ` : "";
  return `${path}${issue.message}`;
}

function seconds(value: number | string | undefined): number | null {
  if (value === undefined) return null;
  return typeof value === "number" ? value : Math.floor(Date.parse(value) / 1000);
}

const DIGEST_FIELDS = ["value", "md5", "sha1", "sha256"] as const;

/** The canonical keys a record is stored under. Throws {@link InvalidInputError}. */
export function recordKeys(record: RecordInput): Uint8Array[] {
  switch (record.type) {
    case "file":
    case "cert": {
      const scan = record.type === "file" ? scanDigest : scanThumbprint;
      const keys: Uint8Array[] = [];
      const hexes: string[] = [];
      for (const field of DIGEST_FIELDS) {
        const text = record[field];
        if (text === undefined) continue;
        const digest = scan(text);
        if (field !== "value" && digest.kind !== field) {
          throw new InvalidInputError(
            "invalid_record",
            `Field ${quote(field)} holds a ${digest.kind} digest, not ${field}`,
          );
        }
        if (hexes.includes(digest.hex)) continue;
        hexes.push(digest.hex);
        keys.push(digestKeyFromHex(record.type, digest.hex));
      }
      if (keys.length === 0) {
        throw new InvalidInputError(
          "invalid_record",
          `A ${record.type} record needs "value" or at least one of ${
            record.type === "file" ? '"md5", "sha1", "sha256"' : '"sha1", "sha256"'
          }`,
        );
      }
      return keys;
    }
    case "url":
    case "domain":
    case "ip": {
      if (record.md5 ?? record.sha1 ?? record.sha256) {
        throw new InvalidInputError(
          "invalid_record",
          `A ${record.type} record cannot carry "md5", "sha1" or "sha256"`,
        );
      }
      if (record.value === undefined) {
        throw new InvalidInputError("invalid_record", `A ${record.type} record needs "value"`);
      }
      if (record.type === "url") return [textKey("url", listedUrl(record.value))];
      if (record.type === "domain") return [textKey("domain", normalizeDomain(record.value))];
      const net = parseNetwork(record.value);
      return [ipKey(maskTo(net.bytes, net.prefix), net.prefix)];
    }
  }
}

/**
 * The expression a listed URL is stored under. A look-up canonicalises any host
 * (an odd one just answers "unknown"), but a listed host must be a host name or
 * an IP address: "not a url" is a broken feed line, not a listing of the host
 * "not%20a%20url".
 */
function listedUrl(value: string): string {
  const url = canonicalizeUrl(value);
  if (!isHostName(url.host)) {
    throw new InvalidInputError(
      "invalid_url",
      `Invalid URL ${quote(value)}: host ${quote(url.host)} is not a domain name or IP address`,
    );
  }
  return expressionOf(url);
}

// A canonical host is lower case, punycode and escaped, so a name is labels of letters,
// digits, "_" and "-". Unlike the domain look-up's rule, a label may start or end with "-":
// browsers open such hosts ("foo-.blogspot.com") and feeds list them.
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/;
const DOTTED_IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

function isHostName(host: string): boolean {
  if (host.startsWith("[")) return true; // canonicalisation already parsed it as IPv6
  // Canonicalisation writes an IPv4 host in this form; "999.1.1.1" it left as a name.
  if (DOTTED_IPV4.test(host)) return host.split(".").every((octet) => Number(octet) <= 255);
  return HOST_NAME.test(host);
}

/** The stored rows of a record, one per key. */
export function recordRows(
  record: RecordInput,
  origin: Origin,
  defaultSource: string,
): EntryRow[] {
  const shared = {
    origin,
    verdict: VERDICT_CODE[record.verdict as keyof typeof VERDICT_CODE],
    threat: record.threat ?? null,
    categories: record.categories?.length ? JSON.stringify(record.categories) : null,
    first_seen: seconds(record.firstSeen),
    last_seen: seconds(record.lastSeen),
    ttl: record.ttl ?? null,
    source: record.source ?? defaultSource,
  };
  const keys = recordKeys(record);
  const rows: EntryRow[] = new Array(keys.length);
  // Literal objects of one shape: cheaper than spreading `shared` into each.
  for (let i = 0; i < keys.length; i++) {
    rows[i] = {
      key: keys[i],
      origin: shared.origin,
      verdict: shared.verdict,
      threat: shared.threat,
      categories: shared.categories,
      first_seen: shared.first_seen,
      last_seen: shared.last_seen,
      ttl: shared.ttl,
      source: shared.source,
    };
  }
  return rows;
}
