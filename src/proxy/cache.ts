/**
 * The proxy cache: the parent's answers in memory, least recently used first, bounded in
 * entries and bytes, and written to the database in batches so a restart starts warm.
 * Losing the last batch to a power cut costs only a few answers asked again.
 */
import type { Clock, Logger } from "../core/mod.ts";
import type { ProxyCacheRow, ProxyCacheTable } from "../store/mod.ts";
import type { ParentAnswer } from "../upstream/mod.ts";

/** One cached answer. Times are milliseconds since the epoch. */
export interface CachedAnswer {
  answer: ParentAnswer;
  expiresAt: number;
  /** Estimated memory: the key and the answer at two bytes a character, plus the objects. */
  bytes: number;
}

interface Entry extends CachedAnswer {
  type: string;
  value: string;
  usedAt: number;
  /** The `used_at` the database holds (0: this answer is not written yet). */
  savedUsedAt: number;
  /** Not written yet, but a row of an older answer for the key may be: dropping it removes that. */
  replacesRow?: boolean;
}

/** What {@link ProxyCache} needs. */
export interface ProxyCacheOptions {
  table: ProxyCacheTable;
  clock: Clock;
  log: Logger;
  maxEntries: number;
  maxBytes: number;
  /** How long past expiry an entry is kept for serving stale. */
  staleMs: number;
}

// Objects around an entry (map slot, entry, answer object, arrays) beyond its strings.
const ENTRY_OVERHEAD = 320;
// A hit moves an entry's used_at on disk at most this often, so hits cost no writes.
const TOUCH_WRITE_MS = 60_000;

/** Cache key of an object: its type and normalised value. */
export function cacheKey(type: string, value: string): string {
  return `${type}\n${value}`;
}

/** The in-memory cache with its write-behind to `proxy_cache`. */
export class ProxyCache {
  readonly #o: ProxyCacheOptions;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  #entries = new Map<string, Entry>();
  #bytes = 0;
  #evictions = 0;
  // Changes not yet written: an entry to write (or touch), or null to remove.
  #pending = new Map<string, Entry | null>();

  constructor(options: ProxyCacheOptions) {
    this.#o = options;
  }

  /** Loads what the database holds, dropping what is past serving even stale. */
  load(): void {
    const now = this.#o.clock.now();
    this.#entries = new Map();
    this.#bytes = 0;
    this.#pending = new Map();
    let unreadable = 0;
    for (const row of this.#o.table.rows()) {
      const key = cacheKey(row.type, row.value);
      if (row.expiresAt + this.#o.staleMs <= now) {
        this.#pending.set(key, null);
        continue;
      }
      let answer: ParentAnswer;
      try {
        answer = JSON.parse(row.answer);
      } catch {
        unreadable++;
        this.#pending.set(key, null);
        continue;
      }
      const entry = { ...row, answer, savedUsedAt: row.usedAt };
      this.#entries.set(key, entry);
      this.#bytes += entry.bytes;
    }
    this.#evict();
    if (unreadable) this.#o.log.warn(`Dropped ${unreadable} unreadable proxy cache rows`);
  }

  /** The entry for `key`, marked as just used; undefined when absent or past serving stale. */
  get(key: string): CachedAnswer | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = this.#o.clock.now();
    if (entry.expiresAt + this.#o.staleMs <= now) {
      this.#drop(key, entry);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    entry.usedAt = now;
    if (now - entry.savedUsedAt >= TOUCH_WRITE_MS && !this.#pending.has(key)) {
      this.#pending.set(key, entry);
    }
    return entry;
  }

  /** Stores an answer, evicting the least recently used entries beyond the bounds. */
  put(type: string, value: string, answer: ParentAnswer, expiresAt: number): void {
    const key = cacheKey(type, value);
    const old = this.#entries.get(key);
    if (old !== undefined) this.#drop(key, old);
    const bytes = 2 * (key.length + JSON.stringify(answer).length) + ENTRY_OVERHEAD;
    const now = this.#o.clock.now();
    // savedUsedAt 0: the row is not in the database yet, so the next write inserts it whole.
    const entry: Entry = { type, value, answer, expiresAt, bytes, usedAt: now, savedUsedAt: 0 };
    // A removal waiting to be written means an older row exists; the new one replaces it.
    if (this.#pending.get(key) === null) entry.replacesRow = true;
    this.#entries.set(key, entry);
    this.#bytes += bytes;
    this.#pending.set(key, entry);
    this.#evict();
  }

  /**
   * Writes up to `limit` pending changes in one transaction; returns how many are left. A
   * busy proxy collects thousands a second, and writing them all at once would hold up every
   * look-up for tens of milliseconds.
   */
  flush(limit = Infinity): number {
    if (this.#pending.size === 0) return 0;
    const put: ProxyCacheRow[] = [];
    const touch: { type: string; value: string; usedAt: number }[] = [];
    const remove: { type: string; value: string }[] = [];
    const written: [string, Entry | null][] = [];
    for (const change of this.#pending) {
      if (written.length >= limit) break;
      written.push(change);
      const [key, entry] = change;
      if (entry === null) {
        const split = key.indexOf("\n");
        remove.push({ type: key.slice(0, split), value: key.slice(split + 1) });
      } else if (entry.savedUsedAt === 0) {
        put.push({
          type: entry.type,
          value: entry.value,
          answer: JSON.stringify(entry.answer),
          expiresAt: entry.expiresAt,
          usedAt: entry.usedAt,
          bytes: entry.bytes,
        });
      } else {
        touch.push({ type: entry.type, value: entry.value, usedAt: entry.usedAt });
      }
    }
    this.#o.table.apply({ put, touch, remove });
    for (const [key, entry] of written) {
      if (entry !== null) entry.savedUsedAt = entry.usedAt;
      this.#pending.delete(key);
    }
    return this.#pending.size;
  }

  /** Entries, estimated bytes, and entries evicted for room since start. */
  get size(): { entries: number; bytes: number; evictions: number } {
    return { entries: this.#entries.size, bytes: this.#bytes, evictions: this.#evictions };
  }

  #evict(): void {
    const { maxEntries, maxBytes } = this.#o;
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= maxEntries && this.#bytes <= maxBytes) break;
      this.#drop(key, entry);
      this.#evictions++;
    }
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    // An entry never written, and replacing no row, needs no removal either.
    if (entry.savedUsedAt === 0 && !entry.replacesRow) this.#pending.delete(key);
    else this.#pending.set(key, null);
  }
}
