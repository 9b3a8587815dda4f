/**
 * One detection record: the strict schema a client's record must match, and
 * the reduced form that is stored. Personal data never lands: unknown fields
 * (a client IP, user or host name) are rejected, a file path is cut down to its
 * extension, and a URL keeps only its scheme, host and path. A record's cost is
 * bounded before any pattern runs (every string's length first), a refusal
 * names the field, what it expects and what it got, and `detectedAt` must lie
 * within a year before and a day after the node's clock.
 */
import { z } from "zod";
import { quote } from "../core/mod.ts";
import { VERDICTS } from "../reputation/mod.ts";

/** Kinds of detection a record can report. */
export const DETECTION_TYPES = ["file", "url", "mail", "network", "behaviour", "other"] as const;
/** What the client did about the object. */
export const DECISIONS = [
  "blocked",
  "allowed",
  "quarantined",
  "deleted",
  "disinfected",
  "reported",
] as const;
/** The statistics format version this node stores. */
export const STATISTICS_VERSION = 1;

/** A stored record: one NDJSON line of a daily file, in this key order. */
export interface StatsRecord {
  detectedAt: string;
  detectionType: typeof DETECTION_TYPES[number];
  verdict: typeof VERDICTS[number];
  decision?: typeof DECISIONS[number];
  threat?: string;
  md5?: string;
  sha256?: string;
  size?: number;
  fileType?: string;
  fileExtension?: string;
  url?: string;
  referer?: string;
  productVersion?: string;
  databaseVersion?: string;
  databaseDate?: string;
  statisticsVersion: number;
  /** When this node accepted the record (ISO 8601, UTC), added by the node. */
  receivedAt: string;
}

const URL_SCHEMES = new Set(["http:", "https:", "ftp:", "ftps:", "ws:", "wss:"]);
const EXTENSION = /^[a-z0-9]{1,16}$/;
const PRINTABLE = /^[^\p{C}]+$/u;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
const TOKEN = /^[a-z0-9][a-z0-9._+-]{0,31}$/;

/** `scheme://host/path` of a URL: query, fragment, user info and port dropped; null if unusable. */
export function stripUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (!URL_SCHEMES.has(url.protocol) || url.hostname === "") return null;
  return `${url.protocol}//${url.hostname}${url.pathname}`;
}

/**
 * The lower-case extension of a file path's last component (Windows or POSIX
 * separators), or null when there is none or it is not 1–16 letters and digits:
 * anything longer could carry a name.
 */
export function fileExtension(path: string): string | null {
  const name = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return null;
  const extension = name.slice(dot + 1).toLowerCase();
  return EXTENSION.test(extension) ? extension : null;
}

/** How a field is checked: its JSON type, its longest allowed text, and what it must hold. */
interface FieldRule {
  type: "string" | "number";
  /** Longest string accepted, checked before any pattern runs. */
  maxChars?: number;
  /** What the field must hold, for messages: "expected …". */
  expects: string;
}

const FIELDS: Readonly<Record<string, FieldRule>> = {
  detectedAt: { type: "string", maxChars: 64, expects: "an ISO 8601 date and time" },
  detectionType: {
    type: "string",
    maxChars: 16,
    expects: `one of ${DETECTION_TYPES.join(", ")}`,
  },
  verdict: { type: "string", maxChars: 16, expects: `one of ${VERDICTS.join(", ")}` },
  decision: { type: "string", maxChars: 16, expects: `one of ${DECISIONS.join(", ")}` },
  threat: { type: "string", maxChars: 256, expects: "1 to 256 printable characters" },
  md5: { type: "string", maxChars: 32, expects: "32 hex digits" },
  sha256: { type: "string", maxChars: 64, expects: "64 hex digits" },
  size: { type: "number", expects: "a whole number of bytes" },
  fileType: { type: "string", maxChars: 32, expects: 'a short lower-case token such as "pe"' },
  fileExtension: { type: "string", maxChars: 16, expects: "an extension of at most 16 characters" },
  filePath: { type: "string", maxChars: 4096, expects: "a path of at most 4096 characters" },
  path: { type: "string", maxChars: 4096, expects: "a path of at most 4096 characters" },
  url: { type: "string", maxChars: 4096, expects: "an absolute http(s), ftp(s) or ws(s) URL" },
  referer: {
    type: "string",
    maxChars: 4096,
    expects: "an absolute http(s), ftp(s) or ws(s) URL",
  },
  productVersion: { type: "string", maxChars: 64, expects: 'a version such as "21.3.10.391"' },
  databaseVersion: { type: "string", maxChars: 64, expects: "a version token" },
  databaseDate: { type: "string", maxChars: 10, expects: 'the release date as "YYYY-MM-DD"' },
  statisticsVersion: {
    type: "number",
    expects: `${STATISTICS_VERSION}, the statistics version this node stores`,
  },
};

/** How far `detectedAt` may be ahead of the node's clock: clients' clocks drift. */
export const MAX_DETECTED_AHEAD_MS = 86_400_000;
/** How far `detectedAt` may be behind the node's clock: a client's backlog after a year offline. */
export const MAX_DETECTED_AGE_DAYS = 365;

// Shapes only: normalising (time zone, hex case, URL and path reduction) happens
// after parsing, in plain code; as zod transforms they took a third more time,
// and this runs for every record the node receives. Messages come from FIELDS
// (describeIssue); string lengths are checked before this schema runs at all.
const hex = (length: number): z.ZodString =>
  z.string().regex(new RegExp(`^[0-9a-fA-F]{${length}}$`));
const text = z.string().max(4096);

const inputSchema = z.strictObject({
  detectedAt: z.iso.datetime({ offset: true }),
  detectionType: z.enum(DETECTION_TYPES),
  verdict: z.enum(VERDICTS),
  decision: z.enum(DECISIONS).optional(),
  threat: z.string().max(256).regex(PRINTABLE).optional(),
  md5: hex(32).optional(),
  sha256: hex(64).optional(),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  fileType: z.string().regex(TOKEN).optional(),
  fileExtension: z.string().max(16).optional(),
  filePath: text.optional(),
  path: text.optional(),
  url: text.optional(),
  referer: text.optional(),
  productVersion: z.string().regex(VERSION).optional(),
  databaseVersion: z.string().regex(VERSION).optional(),
  databaseDate: z.iso.date().optional(),
  statisticsVersion: z.literal(STATISTICS_VERSION),
});

/** A record that passed, or why one did not. */
export type RecordCheck = { ok: true; record: StatsRecord } | { ok: false; message: string };

/** Options of {@link checkRecord}. */
export interface CheckOptions {
  /** The node's time (ms since the epoch, from its clock): `detectedAt` must be near it. */
  now: number;
}

/**
 * Validates one record from a client and reduces it to what is stored;
 * `receivedAt` is left empty for the writer to stamp. Every string's length is
 * checked before any pattern runs on it, so a record's cost is bounded.
 */
export function checkRecord(input: unknown, options: CheckOptions): RecordCheck {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return { ok: false, message: "Expected a JSON object" };
  }
  const fields = input as Record<string, unknown>;
  const tooLong = overlongField(fields);
  if (tooLong !== undefined) return { ok: false, message: tooLong };
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    return { ok: false, message: describeIssue(parsed.error.issues[0], fields) };
  }
  const r = parsed.data;
  const detectedAt = isoUtc(r.detectedAt);
  const late = implausibleTime(detectedAt, options.now);
  if (late !== undefined) return { ok: false, message: late };
  const url = r.url === undefined ? undefined : stripUrl(r.url);
  const referer = r.referer === undefined ? undefined : stripUrl(r.referer);
  if (url === null || referer === null) {
    const field = url === null ? "url" : "referer";
    const given = quote(field === "url" ? r.url : r.referer, 64);
    return {
      ok: false,
      message: `Field "${field}": expected ${FIELDS[field].expects}, got ${given}`,
    };
  }
  const record: StatsRecord = {
    detectedAt,
    detectionType: r.detectionType,
    verdict: r.verdict,
    decision: r.decision,
    threat: r.threat,
    md5: r.md5?.toLowerCase(),
    sha256: r.sha256?.toLowerCase(),
    size: r.size,
    fileType: r.fileType,
    fileExtension: extensionOf(r),
    url,
    referer,
    productVersion: r.productVersion,
    databaseVersion: r.databaseVersion,
    databaseDate: r.databaseDate,
    statisticsVersion: r.statisticsVersion,
    receivedAt: "",
  };
  // JSON.stringify leaves undefined fields out; deleting them would slow the object down.
  return { ok: true, record };
}

/** A validated ISO date and time in UTC with milliseconds, the form `toISOString` writes. */
function isoUtc(text: string): string {
  // Already in that form (what most clients send): no Date round trip.
  if (text.length === 24 && text.charCodeAt(23) === 90 /* Z */) return text;
  return new Date(text).toISOString();
}

function extensionOf(
  r: { fileExtension?: string; filePath?: string; path?: string },
): string | undefined {
  const given = r.fileExtension ?? r.filePath ?? r.path;
  if (given === undefined) return undefined;
  // A bare extension ("EXE", ".exe") is read as the name "x.exe".
  const extension = fileExtension(
    r.fileExtension === undefined ? given : `x.${given.replace(/^\./, "")}`,
  );
  return extension ?? undefined;
}

/** The string fields with their longest allowed length, as a list: this runs for every record. */
const MAX_CHARS: readonly (readonly [string, number])[] = Object.entries(FIELDS)
  .flatMap(([name, rule]) => rule.maxChars === undefined ? [] : [[name, rule.maxChars] as const]);

/** The first field whose string is longer than its rule allows, as a message. */
function overlongField(fields: Record<string, unknown>): string | undefined {
  for (const [name, max] of MAX_CHARS) {
    const value = fields[name];
    if (typeof value === "string" && value.length > max) {
      const field = JSON.stringify(name);
      return `Field ${field}: expected at most ${max} characters, got ${value.length}`;
    }
  }
  return undefined;
}

/** Why `detectedAt` cannot be right, or undefined when it is plausible. */
function implausibleTime(detectedAt: string, now: number): string | undefined {
  const ms = Date.parse(detectedAt);
  if (ms <= now + MAX_DETECTED_AHEAD_MS && ms >= now - MAX_DETECTED_AGE_DAYS * 86_400_000) {
    return undefined;
  }
  return `Field "detectedAt": expected a time in the last ${MAX_DETECTED_AGE_DAYS} days and at ` +
    `most 1 day ahead of this node's clock (${new Date(now).toISOString()}), got ${
      quote(detectedAt)
    }`;
}

/** The message for a schema issue: the field, then what it expects and what it got. */
function describeIssue(issue: z.core.$ZodIssue, fields: Record<string, unknown>): string {
  if (issue.code === "unrecognized_keys") {
    return `Field ${quote(issue.keys[0])}: unknown field, not stored`;
  }
  const name = String(issue.path[0] ?? "");
  const rule = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined;
  if (rule === undefined) return issue.message;
  const field = JSON.stringify(name);
  const value = fields[name];
  if (value === undefined) return `Field ${field}: required`;
  return `Field ${field}: expected ${rule.expects}, got ${describeValue(value, rule.type)}`;
}

/** A value as a message shows it: its kind when that is wrong, else the value, shortened. */
function describeValue(value: unknown, expected: FieldRule["type"]): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const kind = typeof value;
  if (kind !== expected) return kind === "object" ? "an object" : `a ${kind}`;
  return typeof value === "string" ? quote(value, 64) : String(value);
}
