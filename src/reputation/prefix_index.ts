/**
 * An in-memory set of 32-bit key prefixes. Most looked-up objects are unknown;
 * a binary search over a sorted Uint32Array answers those misses without touching
 * SQLite, as Safe Browsing clients do with their hash-prefix lists. A hit only
 * means "maybe": the database has the final word.
 */

/**
 * Sorted prefixes plus a small set of prefixes added since the last rebuild. A
 * table of where each top-16-bit bucket starts narrows every search to one
 * bucket, so a look-up touches a few nearby cache lines instead of ~24 far ones.
 */
export class PrefixIndex {
  readonly #sorted: Uint32Array;
  readonly #starts: Uint32Array;
  readonly #added = new Set<number>();

  /** `sorted` must be sorted ascending; duplicates are fine. */
  constructor(sorted: Uint32Array) {
    this.#sorted = sorted;
    const starts = new Uint32Array(65537);
    let at = 0;
    for (let bucket = 0; bucket < 65536; bucket++) {
      starts[bucket] = at;
      while (at < sorted.length && sorted[at] >>> 16 === bucket) at++;
    }
    starts[65536] = sorted.length;
    this.#starts = starts;
  }

  /** Whether a key with this prefix may exist. */
  has(prefix: number): boolean {
    const a = this.#sorted;
    const bucket = prefix >>> 16;
    let lo = this.#starts[bucket];
    let hi = this.#starts[bucket + 1] - 1;
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

  /** The sorted prefixes it was made from (without those added since), for saving it. */
  get sorted(): Uint32Array {
    return this.#sorted;
  }

  /** Number of prefixes held (with duplicates). */
  get size(): number {
    return this.#sorted.length + this.#added.size;
  }

  /** Bytes the index occupies, for the memory figures. */
  get byteLength(): number {
    return this.#sorted.byteLength + this.#starts.byteLength + this.#added.size * 16;
  }
}
