/**
 * Answering look-ups: normalise the value, derive the candidate keys in order of
 * specificity, skip candidates the in-memory index rules out, and let the first
 * local override win, else the most specific mirror entry.
 */
import { AppError, InvalidInputError, quote } from "../errors.ts";
import { type EntryRepository, type EntryRow, ORIGIN_LOCAL } from "../store/entries.ts";
import { parseDigest, parseThumbprint } from "./hash.ts";
import { domainAndParents, normalizeDomain } from "./domain.ts";
import { formatIp, formatNetwork, type IpNetwork, maskTo, parseNetwork } from "./ip.ts";
import { canonicalizeUrl, urlExpressions } from "./url.ts";
import { digestKey, ipKey, keyPrefix, textKey } from "./keys.ts";
import type { ReputationIndex } from "./reputation_index.ts";
import { type LookupResult, type Match, OBJECT_TYPES, type ObjectType, VERDICTS } from "./types.ts";

/** Holds the current index; replaced whole when the data changes. */
export interface IndexHolder {
  current: ReputationIndex;
}

/** What {@link Reputation} needs. */
export interface ReputationDeps {
  entries: EntryRepository;
  index: IndexHolder;
  /** TTL for unknown verdicts and for records that carry none, in seconds. */
  ttl: { unknown: number; default: number };
}

/** One item of a batch look-up. */
export interface LookupItem {
  type: string;
  value: string;
}

/** A batch item that could not be looked up, carrying its own error. */
export interface LookupItemError {
  type: string;
  value: string;
  error: { code: string; message: string };
}

interface Candidate {
  key: Uint8Array;
  match: Match;
}

/** The look-up service over the store and the in-memory index. */
export class Reputation {
  readonly #entries: EntryRepository;
  readonly #index: IndexHolder;
  readonly #unknownTtl: number;
  readonly #defaultTtl: number;

  constructor(deps: ReputationDeps) {
    this.#entries = deps.entries;
    this.#index = deps.index;
    this.#unknownTtl = deps.ttl.unknown;
    this.#defaultTtl = deps.ttl.default;
  }

  /** Looks up one object; throws {@link InvalidInputError} for a malformed value. */
  lookup(type: ObjectType, value: string): LookupResult {
    switch (type) {
      case "file": {
        const digest = parseDigest(value);
        return this.#digest("file", digest.hex, digest.bytes);
      }
      case "cert": {
        const digest = parseThumbprint(value);
        return this.#digest("cert", digest.hex, digest.bytes);
      }
      case "domain":
        return this.#domain(value);
      case "ip":
        return this.#ip(value);
      case "url":
        return this.#url(value);
    }
  }

  /** Looks up many objects; each item gets its result or its own error, in input order. */
  lookupMany(items: readonly LookupItem[]): (LookupResult | LookupItemError)[] {
    const out: (LookupResult | LookupItemError)[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      try {
        if (!(OBJECT_TYPES as readonly string[]).includes(item.type)) {
          throw new InvalidInputError(
            "invalid_type",
            `Unknown object type ${quote(item.type)}: expected one of ${OBJECT_TYPES.join(", ")}`,
          );
        }
        out[i] = this.lookup(item.type as ObjectType, item.value);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        out[i] = {
          type: item.type,
          value: item.value,
          error: { code: err.code, message: err.message },
        };
      }
    }
    return out;
  }

  #digest(type: "file" | "cert", hex: string, bytes: Uint8Array): LookupResult {
    const key = digestKey(type, bytes);
    if (!this.#index.current.prefixes.has(keyPrefix(key))) return this.#unknown(type, hex);
    const row = this.#entries.get(key);
    return row ? this.#result(type, hex, row) : this.#unknown(type, hex);
  }

  #domain(value: string): LookupResult {
    const name = normalizeDomain(value);
    const candidates = domainAndParents(name).map((d): Candidate => ({
      key: textKey("domain", d),
      match: { type: "domain", value: d },
    }));
    return this.#resolve("domain", name, candidates);
  }

  #ip(value: string): LookupResult {
    const net = parseNetwork(value);
    const full = net.family === 4 ? 32 : 128;
    const shown = net.prefix === full ? formatIp(net) : formatNetwork(net);
    return this.#resolve("ip", shown, this.#networkCandidates(net));
  }

  #networkCandidates(net: IpNetwork): Candidate[] {
    const index = this.#index.current;
    const lengths = net.family === 4 ? index.ipv4Lengths : index.ipv6Lengths;
    const out: Candidate[] = [];
    for (const length of lengths) {
      if (length > net.prefix) continue;
      const masked = maskTo(net.bytes, length);
      out.push({
        key: ipKey(masked, length),
        match: {
          type: "ip",
          value: formatNetwork({ family: net.family, bytes: masked, prefix: length }),
        },
      });
    }
    return out;
  }

  #url(value: string): LookupResult {
    const url = canonicalizeUrl(value);
    const candidates = urlExpressions(url).map((expression): Candidate => ({
      key: textKey("url", expression),
      match: { type: "url", value: expression },
    }));
    // A URL is also as bad as the host it lives on: listed domains and networks
    // apply, after every URL expression.
    try {
      const net = parseNetwork(url.host.startsWith("[") ? url.host.slice(1, -1) : url.host);
      candidates.push(...this.#networkCandidates(net));
    } catch {
      try {
        for (const d of domainAndParents(normalizeDomain(url.host))) {
          candidates.push({ key: textKey("domain", d), match: { type: "domain", value: d } });
        }
      } catch {
        // A host that is neither an address nor a plain domain has no such listings.
      }
    }
    return this.#resolve("url", url.url, candidates);
  }

  #resolve(type: ObjectType, value: string, candidates: readonly Candidate[]): LookupResult {
    const index = this.#index.current;
    let mirror: { row: EntryRow; match: Match } | undefined;
    for (const candidate of candidates) {
      if (!index.prefixes.has(keyPrefix(candidate.key))) continue;
      const row = this.#entries.get(candidate.key);
      if (row === undefined) continue;
      if (row.origin === ORIGIN_LOCAL) return this.#result(type, value, row, candidate.match);
      mirror ??= { row, match: candidate.match };
      if (!index.hasOverrides) break;
    }
    return mirror
      ? this.#result(type, value, mirror.row, mirror.match)
      : this.#unknown(type, value);
  }

  #unknown(type: ObjectType, value: string): LookupResult {
    return { type, value, verdict: "unknown", ttl: this.#unknownTtl, source: "none" };
  }

  #result(type: ObjectType, value: string, row: EntryRow, match?: Match): LookupResult {
    // Built field by field in the documented order, so the JSON reads the same way every time.
    const result: LookupResult = { type, value, verdict: VERDICTS[row.verdict] ?? "unknown" };
    if (row.threat !== null) result.threat = row.threat;
    if (row.categories !== null) result.categories = JSON.parse(row.categories);
    result.ttl = row.ttl ?? this.#defaultTtl;
    result.source = row.source;
    if (row.origin === ORIGIN_LOCAL) result.override = true;
    if (row.first_seen !== null) result.firstSeen = isoSeconds(row.first_seen);
    if (row.last_seen !== null) result.lastSeen = isoSeconds(row.last_seen);
    if (match) result.match = match;
    return result;
  }
}

function isoSeconds(seconds: number): string {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}
