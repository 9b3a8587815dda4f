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
 */
import type { LookupResult } from "./types.ts";

/** A bounded cache of look-up results by key. */
export class HitCache {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #young = new Map<string, LookupResult>();
  #old = new Map<string, LookupResult>();
  #youngBytes = 0;
  #oldBytes = 0;

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
      this.set(key, old);
    }
    return old;
  }

  /** Remembers a result; returns it. */
  set(key: string, result: LookupResult): LookupResult {
    const bytes = cachedBytes(key, result);
    if (this.#young.size >= this.#maxEntries || this.#youngBytes + bytes > this.#maxBytes) {
      this.#old = this.#young;
      this.#oldBytes = this.#youngBytes;
      this.#young = new Map();
      this.#youngBytes = 0;
    }
    this.#young.set(key, result);
    this.#youngBytes += bytes;
    return result;
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
