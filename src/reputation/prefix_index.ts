/**
 * An in-memory set of 32-bit key prefixes. Most looked-up objects are unknown;
 * a binary search over sorted prefixes answers those misses without touching
 * SQLite, as Safe Browsing clients do with their hash-prefix lists. A hit only
 * means "maybe": the database has the final word.
 */

// Buckets by a prefix's top 16 bits.
const BUCKETS = 65536;
// A build pauses every 2^20 prefixes: a few milliseconds of work.
const STEP_MASK = (1 << 20) - 1;

/**
 * Sorted prefixes plus a small set of prefixes added since the last rebuild. A
 * table of where each top-16-bit bucket starts narrows every search to one
 * bucket, so a look-up touches a few nearby cache lines instead of ~24 far ones;
 * and since the table says which bucket a prefix is in, only each prefix's low 16
 * bits are kept: two bytes a key (25 MB at 12.8M keys rather than 51).
 */
export class PrefixIndex {
  readonly #lows: Uint16Array;
  readonly #starts: Uint32Array;
  readonly #added = new Set<number>();

  /** `sorted` must be sorted ascending; duplicates are fine. It is not kept. */
  constructor(sorted: Uint32Array);
  /** The parts of an index, as {@link fromParts} checked them. */
  constructor(starts: Uint32Array, lows: Uint16Array);
  constructor(sortedOrStarts: Uint32Array, lows?: Uint16Array) {
    if (lows !== undefined) {
      this.#starts = sortedOrStarts;
      this.#lows = lows;
      return;
    }
    const sorted = sortedOrStarts;
    const starts = new Uint32Array(BUCKETS + 1);
    this.#lows = new Uint16Array(sorted.length);
    let at = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      starts[bucket] = at;
      while (at < sorted.length && sorted[at] >>> 16 === bucket) {
        this.#lows[at] = sorted[at] & 0xffff;
        at++;
      }
    }
    starts[BUCKETS] = sorted.length;
    this.#starts = starts;
  }

  /**
   * An index of `prefixes` in any order, built in steps with `pause` between them, so a serving
   * node goes on answering while it builds: a bucket count, a placing pass and a sort of each
   * bucket's few tails (about 200 at ten million keys), instead of one sort of the whole array
   * (about a second at ten million, measured as the longest event-loop block of a sync).
   */
  static async fromUnsorted(
    prefixes: Uint32Array,
    pause: () => Promise<void> = () => Promise.resolve(),
  ): Promise<PrefixIndex> {
    const n = prefixes.length;
    const starts = new Uint32Array(BUCKETS + 1);
    for (let i = 0; i < n; i++) {
      starts[(prefixes[i] >>> 16) + 1]++;
      if ((i & STEP_MASK) === STEP_MASK) await pause();
    }
    for (let b = 0; b < BUCKETS; b++) starts[b + 1] += starts[b];
    const next = starts.slice(0, BUCKETS);
    const lows = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const v = prefixes[i];
      lows[next[v >>> 16]++] = v & 0xffff;
      if ((i & STEP_MASK) === STEP_MASK) await pause();
    }
    for (let b = 0; b < BUCKETS; b++) {
      if (starts[b + 1] - starts[b] > 1) lows.subarray(starts[b], starts[b + 1]).sort();
      if ((b & 0xfff) === 0xfff) await pause();
    }
    return new PrefixIndex(starts, lows);
  }

  /**
   * An index from the parts {@link starts} and {@link lows} gave, as a saved file holds them;
   * null if they are not a well-formed index (the caller builds one instead).
   */
  static fromParts(starts: Uint32Array, lows: Uint16Array): PrefixIndex | null {
    if (starts.length !== BUCKETS + 1 || starts[0] !== 0 || starts[BUCKETS] !== lows.length) {
      return null;
    }
    for (let b = 0; b < BUCKETS; b++) if (starts[b] > starts[b + 1]) return null;
    return new PrefixIndex(starts, lows);
  }

  /** Whether a key with this prefix may exist. */
  has(prefix: number): boolean {
    const a = this.#lows;
    const bucket = prefix >>> 16;
    const low = prefix & 0xffff;
    let lo = this.#starts[bucket];
    let hi = this.#starts[bucket + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid];
      if (v < low) lo = mid + 1;
      else if (v > low) hi = mid - 1;
      else return true;
    }
    return this.#added.size > 0 && this.#added.has(prefix);
  }

  /** Records a prefix written after the index was built. */
  add(prefix: number): void {
    if (!this.has(prefix)) this.#added.add(prefix);
  }

  /** Where each top-16-bit bucket starts in {@link lows} (65,537 entries), for saving it. */
  get starts(): Uint32Array {
    return this.#starts;
  }

  /** The low 16 bits of the built prefixes, sorted within each bucket, for saving it. */
  get lows(): Uint16Array {
    return this.#lows;
  }

  /** Number of prefixes held (with duplicates). */
  get size(): number {
    return this.#lows.length + this.#added.size;
  }

  /** Bytes the index occupies, for the memory figures. */
  get byteLength(): number {
    return this.#lows.byteLength + this.#starts.byteLength + this.#added.size * 16;
  }
}
