/**
 * Reputation records as they enter the node from files: one zod schema, then
 * normalisation into the canonical values the record is stored under.
 */
import { z } from "zod";
import { InvalidInputError, quote } from "../errors.ts";
import { type EntryRow, type Origin } from "../store/entries.ts";
import { scanDigest, scanThumbprint } from "./hash.ts";
import { normalizeDomain } from "./domain.ts";
import { maskTo, parseNetwork } from "./ip.ts";
import { urlExpression } from "./url.ts";
import { digestKeyFromHex, ipKey, textKey } from "./keys.ts";
import { OBJECT_TYPES, VERDICT_CODE, VERDICTS } from "./types.ts";

const LISTABLE_VERDICTS = VERDICTS.filter((v) => v !== "unknown") as [string, ...string[]];

const timestamp = z.union([
  z.number().int().min(0).max(32503680000),
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), {
    message: 'expected an ISO 8601 date such as "2026-11-28" or "2026-11-28T12:00:00Z"',
  }),
]);

/** One record line, as NDJSON carries it (CSV rows are converted to this shape). */
export const recordSchema = z.strictObject({
  type: z.enum(OBJECT_TYPES),
  value: z.string().min(1).max(8192).optional(),
  md5: z.string().optional(),
  sha1: z.string().optional(),
  sha256: z.string().optional(),
  verdict: z.enum(LISTABLE_VERDICTS, {
    error: `expected one of ${LISTABLE_VERDICTS.join(", ")}`,
  }),
  threat: z.string().min(1).max(256).optional(),
  categories: z.array(z.string().min(1).max(64)).max(32).optional(),
  ttl: z.number().int().min(0).max(2_592_000).optional(),
  firstSeen: timestamp.optional(),
  lastSeen: timestamp.optional(),
  source: z.string().min(1).max(64).optional(),
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
      if (record.type === "url") return [textKey("url", urlExpression(record.value))];
      if (record.type === "domain") return [textKey("domain", normalizeDomain(record.value))];
      const net = parseNetwork(record.value);
      return [ipKey(maskTo(net.bytes, net.prefix), net.prefix)];
    }
  }
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
  return recordKeys(record).map((key) => ({ key, ...shared }));
}
