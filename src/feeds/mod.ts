/**
 * Readers of public feeds (URLhaus, MalwareBazaar, ThreatFox, plain lists, NDJSON, CSV) and the
 * record import behind `pksn import` and `pksn feed build`.
 */
export { FEED_FORMATS, type FeedOptions, isFeedFormat, recogniseFeed } from "./formats.ts";
export {
  type FeedSpec,
  formatFromName,
  importBytes,
  type ImportFormat,
  type ImportOptions,
  importRecords,
  type ImportReport,
  type RecordConverter,
} from "./import.ts";
