/**
 * Importers for public threat-feed formats. Each turns its format's lines into
 * record objects; `importRecords` validates, keys and stores them all or nothing.
 */
import type { RecordConverter } from "./_converter.ts";
import type { FeedOptions } from "./_options.ts";
import { malwarebazaar } from "./malwarebazaar.ts";
import { plainList } from "./plain_list.ts";
import { threatfox } from "./threatfox.ts";
import { urlhaus } from "./urlhaus.ts";

export type { FeedOptions } from "./_options.ts";
export { inferType } from "./plain_list.ts";
export { THREATFOX_MIN_MALICIOUS_CONFIDENCE } from "./threatfox.ts";

/** Makes a fresh converter (converters keep the header they have read) for one import. */
export type FeedFormat = (options?: FeedOptions) => RecordConverter;

/** Feed formats by the name `pksn import --format` takes. */
export const FEED_FORMATS: Readonly<Record<string, FeedFormat>> = Object.freeze({
  urlhaus,
  malwarebazaar,
  threatfox,
  list: plainList,
});

/** Whether `name` is a feed format in {@link FEED_FORMATS}. */
export function isFeedFormat(name: string): boolean {
  return Object.hasOwn(FEED_FORMATS, name);
}

// Each public export's column header (the commented line before the data) names it for sure;
// the banner is the fallback for an export whose header line was cut.
const SIGNATURES: readonly [format: string, header: RegExp, banner: RegExp][] = [
  ["urlhaus", /^#?\s*"?id"?,"?dateadded"?,"?url"?,"?url_status"?/m, /URLhaus/i],
  ["threatfox", /"?ioc_id"?\s*,\s*"?ioc_value"?/, /ThreatFox/i],
  ["malwarebazaar", /"?first_seen_utc"?\s*,\s*"?sha256_hash"?/, /MalwareBazaar/i],
];

/**
 * The public feed format `head` (the first few KiB of a file) is an export of, by its header
 * or banner; undefined for anything else (pksn's own CSV or NDJSON, a list).
 */
export function recogniseFeed(head: string): string | undefined {
  for (const [format, header] of SIGNATURES) if (header.test(head)) return format;
  for (const [format, , banner] of SIGNATURES) {
    if (banner.test(head.split("\n").filter((l) => l.startsWith("#")).join("\n"))) return format;
  }
  return undefined;
}
