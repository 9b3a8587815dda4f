/**
 * Exact counts of any number of distinct strings in bounded memory. Counts are
 * kept in a `Map` until it holds {@link MAX_MEMORY_KEYS} keys or
 * {@link MAX_MEMORY_CHARS} characters; then they are added to a table in a
 * temporary SQLite file (store's `CountsFile`, a page cache of
 * {@link SPILL_CACHE_MIB} MiB) and the map starts again. The file sits in the
 * statistics folder, not in the system's temporary folder, which is often a RAM
 * disk; it is unlinked as soon as it is open, so a crash leaves nothing behind.
 * Nothing is estimated: every count the caller gets is exact.
 */
import { CountsFile } from "../store/mod.ts";

/** Keys held in memory before they are added to the temporary file. */
export const MAX_MEMORY_KEYS = 20_000;
/** Characters of keys held in memory before they are added to the temporary file. */
export const MAX_MEMORY_CHARS = 2 * 1024 * 1024;
const SPILL_CACHE_MIB = 2;

/** The most frequent keys with their counts, and what the rest adds up to. */
export interface TopCounts {
  /** At most `limit` keys, largest count first, ties by name (code point order). */
  top: [string, number][];
  /** Occurrences of the keys not in `top`, and how many distinct keys they are. */
  other: { records: number; distinct: number };
}

/** Counts strings exactly; call {@link close} when done, also after a failure. */
export class BoundedCounts {
  readonly #dir: string;
  #memory = new Map<string, number>();
  #memoryChars = 0;
  #spill: CountsFile | undefined;

  /** `dir` is where the temporary file goes once the map is full. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Counts one occurrence of `key`. */
  add(key: string): void {
    const n = this.#memory.get(key);
    if (n !== undefined) {
      this.#memory.set(key, n + 1);
      return;
    }
    this.#memory.set(key, 1);
    this.#memoryChars += key.length;
    if (this.#memory.size >= MAX_MEMORY_KEYS || this.#memoryChars >= MAX_MEMORY_CHARS) {
      this.#flush();
    }
  }

  /** The `limit` most frequent keys and the sum of the rest. */
  top(limit: number): TopCounts {
    if (this.#spill === undefined) return topOfMap(this.#memory, limit);
    this.#flush();
    const top = this.#spill.top(limit);
    const all = this.#spill.totals();
    const shown = top.reduce((sum, [, n]) => sum + n, 0);
    return { top, other: { records: all.records - shown, distinct: all.distinct - top.length } };
  }

  /** Removes the temporary file, if there is one. */
  close(): void {
    this.#spill?.close();
    this.#spill = undefined;
    this.#memory.clear();
  }

  #flush(): void {
    this.#spill ??= new CountsFile(this.#dir, SPILL_CACHE_MIB);
    this.#spill.add(this.#memory);
    this.#memory = new Map();
    this.#memoryChars = 0;
  }
}

/** Orders by count, largest first, then by name in code point order (as SQLite's BINARY). */
export function byCountThenName(x: [string, number], y: [string, number]): number {
  return y[1] - x[1] || compareCodePoints(x[0], y[0]);
}

function topOfMap(counts: Map<string, number>, limit: number): TopCounts {
  const entries = [...counts].sort(byCountThenName);
  const top = entries.slice(0, limit);
  let records = 0;
  for (let i = limit; i < entries.length; i++) records += entries[i][1];
  return { top, other: { records, distinct: Math.max(0, entries.length - limit) } };
}

/**
 * UTF-16 order puts U+E000–U+FFFF after the surrogates of U+10000 and up; moving
 * surrogates past them gives code point order, which is what SQLite compares.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

function codeUnitRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}
