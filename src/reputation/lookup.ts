/**
 * Answering look-ups: normalise the value, derive the candidate keys in order of
 * specificity, skip candidates the in-memory index rules out, and let the first
 * local override win, else the most specific mirror entry.
 */
import { AppError, InvalidInputError, isoSeconds, quote } from "../core/mod.ts";
import { type EntryRepository, type EntryRow, ORIGIN_LOCAL } from "../store/mod.ts";
import { scanDigest, type ScannedDigest, scanThumbprint } from "./hash.ts";
import { normalizeDomain } from "./domain.ts";
import { parseNetwork } from "./ip.ts";
import { networkText } from "./canonical.ts";
import { canonicalizeUrl } from "./url.ts";
import { digestKeyFromHex } from "./keys.ts";
import {
  type Candidate,
  candidateKey,
  candidateMatch,
  domainCandidates,
  networkCandidates,
  urlCandidates,
} from "./candidates.ts";
import type { ReputationIndex } from "./reputation_index.ts";
import { HitCache } from "./hit_cache.ts";
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
  /** How mirror answers are given while the synced mirror is frozen; normal when absent. */
  mirrorMode?: { readonly mode: "current" | "stale" | "off" };
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

// Sized for the popular objects a node is asked about again and again; a larger cache would
// hold listed objects asked once (one per client, say) in memory the node's 150 MB budget at ten
// million records cannot spare. 16,384 SHA-256 hits stay under its byte bound (estimated high:
// about 9 MB in fact); the bytes bind only for long URLs. Cleared whenever the index is replaced, so it is never staler than the
// index itself.
const HIT_CACHE_SIZE = 16_384;
const HIT_CACHE_BYTES = 16 * 1024 * 1024;

/** The look-up service over the store and the in-memory index. */
export class Reputation {
  readonly #entries: EntryRepository;
  readonly #index: IndexHolder;
  readonly #unknownTtl: number;
  readonly #defaultTtl: number;
  readonly #mirrorMode: { readonly mode: "current" | "stale" | "off" } | undefined;
  #hits = new HitCache(HIT_CACHE_SIZE, HIT_CACHE_BYTES);
  #hitsFor: ReputationIndex | undefined;

  constructor(deps: ReputationDeps) {
    this.#entries = deps.entries;
    this.#index = deps.index;
    this.#unknownTtl = deps.ttl.unknown;
    this.#defaultTtl = deps.ttl.default;
    this.#mirrorMode = deps.mirrorMode;
  }

  /**
   * Looks up one object; throws {@link InvalidInputError} for a malformed value.
   * Results may be shared between callers: treat them as read-only.
   */
  lookup(type: ObjectType, value: string): LookupResult {
    const result = this.#lookup(type, value);
    const mode = this.#mirrorMode?.mode;
    if (mode === undefined || mode === "current" || result.override) return result;
    // The synced mirror is past its signed expiry: say so, or do not use it at all.
    if (mode === "stale" || result.verdict === "unknown") return { ...result, stale: true };
    return { ...this.#unknown(type, result.value), stale: true };
  }

  #lookup(type: ObjectType, value: string): LookupResult {
    switch (type) {
      case "file":
        return this.#digest("file", scanDigest(value));
      case "cert":
        return this.#digest("cert", scanThumbprint(value));
      case "domain": {
        const name = normalizeDomain(value);
        return this.#cached("domain", name, () => domainCandidates(name));
      }
      case "ip": {
        const net = parseNetwork(value);
        return this.#cached(
          "ip",
          networkText(net),
          () => networkCandidates(net, this.#index.current),
        );
      }
      case "url": {
        const url = canonicalizeUrl(value);
        return this.#cached("url", url.url, () => urlCandidates(url, this.#index.current));
      }
    }
  }

  /** Looks up many objects; each item gets its result or its own error, in input order. */
  lookupMany(items: readonly LookupItem[]): (LookupResult | LookupItemError)[] {
    const out: (LookupResult | LookupItemError)[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) out[i] = this.lookupItem(items[i].type, items[i].value);
    return out;
  }

  /** Looks up one batch item: its result, or its own error for a bad type or value. */
  lookupItem(type: string, value: string): LookupResult | LookupItemError {
    try {
      if (!(OBJECT_TYPES as readonly string[]).includes(type)) {
        throw new InvalidInputError(
          "invalid_type",
          `Unknown object type ${quote(type)}: expected one of ${OBJECT_TYPES.join(", ")}`,
        );
      }
      return this.lookup(type as ObjectType, value);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { type, value, error: { code: err.code, message: err.message } };
    }
  }

  /**
   * True when a file hash or thumbprint whose key has this 32-bit prefix is answered as plain
   * unknown (`source` "none", `via` "none", the unknown TTL), whatever its other bytes: the
   * index holds no key with the prefix and the mirror is current. A batch writes such answers
   * straight from the request's bytes.
   */
  surelyUnknown(prefix: number): boolean {
    const mode = this.#mirrorMode?.mode;
    return (mode === undefined || mode === "current") && !this.#index.current.prefixes.has(prefix);
  }

  /** The TTL of an unknown answer, in seconds. */
  get unknownTtl(): number {
    return this.#unknownTtl;
  }

  #digest(type: "file" | "cert", digest: ScannedDigest): LookupResult {
    if (!this.#index.current.prefixes.has(digest.prefix)) return this.#unknown(type, digest.hex);
    const hits = this.#hitCache();
    const cacheKey = type === "file" ? digest.hex : `c${digest.hex}`;
    const cached = hits.get(cacheKey);
    if (cached !== undefined) return cached;
    const row = this.#entries.get(digestKeyFromHex(type, digest.hex));
    if (row === undefined) return this.#unknown(type, digest.hex);
    return this.#remember(cacheKey, this.#result(type, digest.hex, row));
  }

  #cached(type: ObjectType, value: string, candidates: () => Candidate[]): LookupResult {
    const hits = this.#hitCache();
    const cacheKey = `${type}:${value}`;
    const cached = hits.get(cacheKey);
    if (cached !== undefined) return cached;
    const result = this.#resolve(type, value, candidates());
    return result.verdict === "unknown" ? result : this.#remember(cacheKey, result);
  }

  #hitCache(): HitCache {
    if (this.#hitsFor !== this.#index.current) {
      this.#hits = new HitCache(HIT_CACHE_SIZE, HIT_CACHE_BYTES);
      this.#hitsFor = this.#index.current;
    }
    return this.#hits;
  }

  #remember(cacheKey: string, result: LookupResult): LookupResult {
    return this.#hits.set(cacheKey, result);
  }

  /** Entries and estimated bytes of the cache of recent hits. */
  get hitCacheSize(): { entries: number; bytes: number } {
    return this.#hits.size;
  }

  #resolve(type: ObjectType, value: string, candidates: readonly Candidate[]): LookupResult {
    const index = this.#index.current;
    let mirror: { row: EntryRow; candidate: Candidate } | undefined;
    for (const candidate of candidates) {
      if (!index.prefixes.has(candidate.prefix)) continue;
      const row = this.#entries.get(candidateKey(candidate));
      if (row === undefined) continue;
      if (row.origin === ORIGIN_LOCAL) {
        return this.#result(type, value, row, candidateMatch(candidate));
      }
      mirror ??= { row, candidate };
      if (!index.hasOverrides) break;
    }
    return mirror
      ? this.#result(type, value, mirror.row, candidateMatch(mirror.candidate))
      : this.#unknown(type, value);
  }

  #unknown(type: ObjectType, value: string): LookupResult {
    return { type, value, verdict: "unknown", ttl: this.#unknownTtl, source: "none", via: "none" };
  }

  #result(type: ObjectType, value: string, row: EntryRow, match?: Match): LookupResult {
    // Built field by field in the documented order, so the JSON reads the same way every time.
    const result = { type, value, verdict: VERDICTS[row.verdict] ?? "unknown" } as LookupResult;
    if (row.threat !== null) result.threat = row.threat;
    if (row.categories !== null) result.categories = JSON.parse(row.categories);
    result.ttl = row.ttl ?? this.#defaultTtl;
    result.source = row.source;
    if (row.origin === ORIGIN_LOCAL) result.override = true;
    if (row.first_seen !== null) result.firstSeen = isoSeconds(row.first_seen);
    if (row.last_seen !== null) result.lastSeen = isoSeconds(row.last_seen);
    if (match) result.match = match;
    result.via = row.origin === ORIGIN_LOCAL ? "override" : "mirror";
    return result;
  }
}
