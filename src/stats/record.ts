/**
 * One detection record: the strict schema a client's record must match, and
 * the reduced form that is stored. Personal data never lands: unknown fields
 * (a client IP, user or host name) are rejected, a file path is cut down to its
 * extension, and a URL keeps only its scheme, host and path.
 */
import { z } from "zod";
import { VERDICTS } from "../reputation/types.ts";

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

// Shapes only: normalising (time zone, hex case, URL and path reduction) happens
// after parsing, in plain code; as zod transforms they took a third more time,
// and this runs for every record the node receives.
const hex = (length: number): z.ZodString =>
  z.string().regex(new RegExp(`^[0-9a-fA-F]{${length}}$`), `expected ${length} hex digits`);
const text = z.string().max(4096);

const inputSchema = z.strictObject({
  detectedAt: z.iso.datetime({ offset: true, error: "expected an ISO 8601 date and time" }),
  detectionType: z.enum(DETECTION_TYPES, {
    error: `expected one of ${DETECTION_TYPES.join(", ")}`,
  }),
  verdict: z.enum(VERDICTS, { error: `expected one of ${VERDICTS.join(", ")}` }),
  decision: z.enum(DECISIONS, { error: `expected one of ${DECISIONS.join(", ")}` }).optional(),
  threat: z.string().max(256).regex(PRINTABLE, "expected 1 to 256 printable characters")
    .optional(),
  md5: hex(32).optional(),
  sha256: hex(64).optional(),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  fileType: z.string().regex(TOKEN, 'expected a short lower-case token such as "pe"')
    .optional(),
  fileExtension: z.string().max(16).optional(),
  filePath: text.optional(),
  path: text.optional(),
  url: text.optional(),
  referer: text.optional(),
  productVersion: z.string().regex(VERSION, 'expected a version such as "21.3.10.391"')
    .optional(),
  databaseVersion: z.string().regex(VERSION, "expected a version token").optional(),
  databaseDate: z.iso.date({ error: 'expected the release date as "YYYY-MM-DD"' }).optional(),
  statisticsVersion: z.literal(STATISTICS_VERSION, {
    error: `expected ${STATISTICS_VERSION}, the statistics version this node stores`,
  }),
});

/** A record that passed, or why one did not. */
export type RecordCheck = { ok: true; record: StatsRecord } | { ok: false; message: string };

/**
 * Validates one record from a client and reduces it to what is stored;
 * `receivedAt` is left empty for the writer to stamp.
 */
export function checkRecord(input: unknown): RecordCheck {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return { ok: false, message: "Expected a JSON object" };
  }
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) return { ok: false, message: describeIssue(parsed.error.issues[0]) };
  const r = parsed.data;
  const url = r.url === undefined ? undefined : stripUrl(r.url);
  const referer = r.referer === undefined ? undefined : stripUrl(r.referer);
  if (url === null || referer === null) {
    const field = url === null ? "url" : "referer";
    return {
      ok: false,
      message: `Field "${field}": expected an absolute http(s), ftp(s) or ws(s) URL`,
    };
  }
  const record: StatsRecord = {
    detectedAt: isoUtc(r.detectedAt),
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

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `Field ${JSON.stringify(issue.keys[0])}: unknown field, not stored`;
  }
  const field = issue.path.join(".");
  const message = issue.code === "invalid_type" && issue.input === undefined
    ? "required"
    : issue.message;
  return field ? `Field ${JSON.stringify(field)}: ${message}` : message;
}
