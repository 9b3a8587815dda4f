/** abuse.ch ThreatFox CSV exports (`csv/recent`, `csv/full`) as IP, domain, URL and file records. */
import { InvalidInputError, quote } from "../core/mod.ts";
import type { RecordConverter } from "./_converter.ts";
import { csvFeedConverter, type FeedRow, tagList, utcTimestamp } from "./_csv_feed.ts";
import type { FeedOptions } from "./_options.ts";

/** Below this confidence_level (0-100) an IOC is listed as suspicious, not malicious. */
export const THREATFOX_MIN_MALICIOUS_CONFIDENCE = 50;

const HASH_FIELDS: Readonly<Record<string, string>> = {
  md5_hash: "md5",
  sha1_hash: "sha1",
  sha256_hash: "sha256",
};

/**
 * One record per IOC, typed by ioc_type; an `ip:port` IOC lists the address
 * without its port. An ioc_type not listed here is an error, so a change in
 * the feed is noticed rather than half-imported.
 */
export function threatfox(options: FeedOptions = {}): RecordConverter {
  const source = options.source ?? "threatfox";
  return csvFeedConverter({
    name: "ThreatFox",
    required: ["ioc_value", "ioc_type"],
    toRecord: (row) => ({
      ...indicator(row),
      verdict: verdictOf(row.get("confidence_level")),
      threat: row.get("malware_printable") ?? row.get("threat_type"),
      categories: tagList(row.get("threat_type"), row.get("tags")),
      firstSeen: utcTimestamp(row.get("first_seen_utc")),
      lastSeen: utcTimestamp(row.get("last_seen_utc")),
      source,
    }),
  });
}

function indicator(row: FeedRow): Record<string, string> {
  const type = row.require("ioc_type").toLowerCase();
  const value = row.require("ioc_value");
  if (type === "ip:port") return { type: "ip", value: withoutPort(value) };
  if (type === "domain" || type === "url") return { type, value };
  const field = HASH_FIELDS[type];
  if (field !== undefined) return { type: "file", [field]: value };
  throw new InvalidInputError(
    "invalid_record",
    `Unsupported ioc_type ${quote(type)}; expected ip:port, domain, url, ${
      Object.keys(HASH_FIELDS).join(", ")
    }`,
  );
}

/** "192.0.2.1:443" and "[2001:db8::1]:443" lose the port; anything else is an error. */
function withoutPort(value: string): string {
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value);
  if (bracketed && isPort(bracketed[2])) return bracketed[1];
  const colon = value.lastIndexOf(":");
  if (colon > 0 && !value.slice(0, colon).includes(":") && isPort(value.slice(colon + 1))) {
    return value.slice(0, colon);
  }
  throw new InvalidInputError(
    "invalid_record",
    `Invalid ip:port ${quote(value)}: expected "192.0.2.1:443" or "[2001:db8::1]:443"`,
  );
}

function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535;
}

function verdictOf(confidence: string | undefined): string {
  if (confidence === undefined) return "malicious";
  if (!/^\d{1,3}$/.test(confidence) || Number(confidence) > 100) {
    throw new InvalidInputError(
      "invalid_record",
      `Invalid confidence_level ${quote(confidence)}: expected a whole number 0-100`,
    );
  }
  return Number(confidence) < THREATFOX_MIN_MALICIOUS_CONFIDENCE ? "suspicious" : "malicious";
}
