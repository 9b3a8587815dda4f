/**
 * An in-memory set of 32-bit key prefixes. Most looked-up objects are unknown;
 * a binary search over a sorted Uint32Array answers those misses without touching
 * SQLite, as Safe Browsing clients do with their hash-prefix lists. A hit only
 * means "maybe": the database has the final word.
 */

/** Sorted prefixes plus a small set of prefixes added since the last rebuild. */
export class PrefixIndex {
  readonly #sorted: Uint32Array;
  readonly #added = new Set<number>();

  /** `sorted` must be sorted ascending; duplicates are fine. */
  constructor(sorted: Uint32Array) {
    this.#sorted = sorted;
  }

  /** Whether a key with this prefix may exist. */
  has(prefix: number): boolean {
    const a = this.#sorted;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid];
      if (v < prefix) lo = mid + 1;
      else if (v > prefix) hi = mid - 1;
      else return true;
    }
    return this.#added.size > 0 && this.#added.has(prefix);
  }

  /** Records a prefix written after the index was built. */
  add(prefix: number): void {
    if (!this.has(prefix)) this.#added.add(prefix);
  }

  /** Number of prefixes held (with duplicates). */
  get size(): number {
    return this.#sorted.length + this.#added.size;
  }

  /** Bytes the index occupies, for the memory figures. */
  get byteLength(): number {
    return this.#sorted.byteLength + this.#added.size * 16;
  }
}
