/** Plain lists: one hash, domain, IP address or network, or URL a line, with `#` comments. */
import { InvalidInputError, quote } from "../core/mod.ts";
import type { RecordConverter } from "./_converter.ts";
import type { ObjectType } from "../reputation/mod.ts";
import type { FeedOptions } from "./_options.ts";

const HEX_DIGEST = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?$/;
const IPV6 = /^[0-9a-f]*:[0-9a-f:.]*(?:\/\d{1,3})?$/i;

/** The object type a list entry names: 32/40/64 hex is a file, then IP or network, URL, domain. */
export function inferType(value: string): Exclude<ObjectType, "cert"> {
  if (HEX_DIGEST.test(value)) return "file";
  if (value.includes("://")) return "url";
  if (IPV4.test(value) || IPV6.test(value)) return "ip";
  return "domain";
}

/**
 * Every entry gets the same verdict (default malicious). Records carry no
 * source unless `options.source` names one, so the import's default (the file
 * name) applies.
 */
export function plainList(options: FeedOptions = {}): RecordConverter {
  const verdict = options.verdict ?? "malicious";
  return {
    convert: function convertListLine(text: string): unknown {
      // A comment starts a line or follows whitespace; "#" inside a URL is a fragment.
      const value = text.replace(/(?:^|\s)#.*$/, "").trim();
      if (value === "") return undefined;
      if (/\s/.test(value)) {
        throw new InvalidInputError(
          "invalid_record",
          `Expected one value a line, got ${quote(value)}`,
        );
      }
      return { type: inferType(value), value, verdict, source: options.source };
    },
  };
}
