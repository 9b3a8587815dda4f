/** abuse.ch URLhaus CSV exports (`csv_recent`, `csv_online`, the full dump) as URL records. */
import type { RecordConverter } from "./_converter.ts";
import { csvFeedConverter, tagList, utcTimestamp } from "./_csv_feed.ts";
import type { FeedOptions } from "./_options.ts";

/**
 * Every row becomes a malicious URL. Offline URLs stay listed: URLhaus keeps
 * them because payload hosts come back, and blocking a dead URL costs nothing;
 * import `csv_online` to list only live ones.
 */
export function urlhaus(options: FeedOptions = {}): RecordConverter {
  const source = options.source ?? "urlhaus";
  return csvFeedConverter({
    name: "URLhaus",
    required: ["url"],
    toRecord: (row) => ({
      type: "url",
      value: row.require("url"),
      verdict: "malicious",
      threat: row.get("threat"),
      categories: tagList(row.get("tags")),
      firstSeen: utcTimestamp(row.get("dateadded")),
      lastSeen: utcTimestamp(row.get("last_online")),
      source,
    }),
  });
}
