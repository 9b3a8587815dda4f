/**
 * Importers for public threat-feed formats. Each turns its format's lines into
 * record objects; `importRecords` validates, keys and stores them all or nothing.
 */
import type { RecordConverter } from "./import.ts";
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
