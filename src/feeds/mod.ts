/**
 * Readers of public feeds (URLhaus, MalwareBazaar, ThreatFox, plain lists, NDJSON, CSV) and the
 * record import behind `pksn import` and `pksn feed build`.
 */
export { FEED_FORMATS, isFeedFormat } from "./formats.ts";
export type { FeedOptions } from "./formats.ts";
export { formatFromName, importRecords } from "./import.ts";
export type { ImportFormat, RecordConverter } from "./import.ts";
export type { ImportReport } from "./import.ts";
