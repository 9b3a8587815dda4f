/**
 * Recently answered listed objects. Hits cost a SQLite read (several µs); popular objects are
 * asked again and again. Bounded in bytes too: every URL under a listed host is a hit, and a URL
 * can be 8,192 characters.
 *
 * Two generations rather than one map in insertion order: new answers go into the young map, and
 * when it is full it becomes the old one and the previous old map is dropped whole. Evicting the
 * oldest entry of one map one at a time cost more than the SQLite read it saved (measured: 3.5 µs
 * a hit once the cache was full, since V8's maps keep deleted entries as holes that iteration from
 * the front walks past). A hit in the old generation moves into the young one, so what is asked
 * often survives.
 *
 * A result is kept only on its key's second ask within the last 65,536 first asks (a doorkeeper,
 * as in TinyLFU). A listed object asked once, by a scan or one client, would otherwise push popular
 * ones out and cost more than it saves: inserting it, and collecting it from V8's old generation
 * once dropped, took about 3 µs of a 14 µs look-up beyond the cache (measured 2026-12-03, 1M
 * records).
 */
import { fnv1aText } from "./keys.ts";
import type { LookupResult } from "./types.ts";

// First asks the doorkeeper remembers, one 32-bit hash each (256 KB): four times the cache's
// entries, so a popular object's second ask finds its first.
const DOOR_SLOTS = 1 << 16;

/** A bounded cache of look-up results by key. */
export class HitCache {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #young = new Map<string, LookupResult>();
  #old = new Map<string, LookupResult>();
  #youngBytes = 0;
  #oldBytes = 0;
  // The hash of the last first ask that fell in each slot; 0 for none (a hash is never 0).
  readonly #door = new Int32Array(DOOR_SLOTS);

  /** Holds at most `maxEntries` results and `maxBytes` of them (estimated), both generations. */
  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries >> 1;
    this.#maxBytes = maxBytes / 2;
  }

  get(key: string): LookupResult | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) {
      // Moved, not copied: the old generation's bytes are counted until it is dropped.
      this.#old.delete(key);
      this.#oldBytes -= cachedBytes(key, old);
      this.#put(key, old);
    }
    return old;
  }

  /** Remembers a result if its key was offered before, recently; returns it either way. */
  set(key: string, result: LookupResult): LookupResult {
    if (this.#askedBefore(key)) this.#put(key, result);
    return result;
  }

  #askedBefore(key: string): boolean {
    const hash = fnv1aText(key) | 1;
    const slot = ((hash >>> 16) ^ hash) & (DOOR_SLOTS - 1);
    if (this.#door[slot] === hash) return true;
    this.#door[slot] = hash;
    return false;
  }

  #put(key: string, result: LookupResult): void {
    const bytes = cachedBytes(key, result);
    if (this.#young.size >= this.#maxEntries || this.#youngBytes + bytes > this.#maxBytes) {
      this.#old = this.#young;
      this.#oldBytes = this.#youngBytes;
      this.#young = new Map();
      this.#youngBytes = 0;
    }
    this.#young.set(key, result);
    this.#youngBytes += bytes;
  }

  /** Entries and estimated bytes held. */
  get size(): { entries: number; bytes: number } {
    return {
      entries: this.#young.size + this.#old.size,
      bytes: this.#youngBytes + this.#oldBytes,
    };
  }
}

/**
 * What a cached hit holds, estimated: the key and the result's strings at two bytes a
 * character (the worst case of V8's string forms), the objects around them, and the answer's
 * JSON text the API keeps beside it while the result lives (the strings again, plus the rest).
 */
function cachedBytes(cacheKey: string, result: LookupResult): number {
  const strings = cacheKey.length + result.value.length + (result.match?.value.length ?? 0);
  return 3 * strings + 512;
}
