/**
 * Exact counts of any number of distinct strings in bounded memory. Counts are
 * kept in a `Map` until it holds {@link MAX_MEMORY_KEYS} keys or
 * {@link MAX_MEMORY_CHARS} characters; then they are added to a table in a
 * temporary SQLite file (a page cache of {@link SPILL_CACHE_MIB} MiB) and the
 * map starts again. The file sits in the statistics folder, not in the system's
 * temporary folder, which is often a RAM disk; it is unlinked as soon as it is
 * open, so a crash leaves nothing behind. Nothing is estimated: every count the
 * caller gets is exact.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { join } from "node:path";
import { quote, StoreError } from "../core/mod.ts";

/** Keys held in memory before they are added to the temporary file. */
export const MAX_MEMORY_KEYS = 20_000;
/** Characters of keys held in memory before they are added to the temporary file. */
export const MAX_MEMORY_CHARS = 2 * 1024 * 1024;
const SPILL_CACHE_MIB = 2;
const SPILL_PREFIX = ".counts-";

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
  #spill: Spill | undefined;

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
    this.#spill ??= new Spill(this.#dir);
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

/** The temporary SQLite table of counts. */
class Spill {
  readonly #db: DatabaseSync;
  readonly #upsert: StatementSync;
  readonly #path: string;
  #unlinked = false;

  constructor(dir: string) {
    this.#path = join(dir, `${SPILL_PREFIX}${crypto.randomUUID()}.sqlite`);
    try {
      this.#db = new DatabaseSync(this.#path);
    } catch (err) {
      throw new StoreError(
        `Cannot create the temporary counting file ${quote(this.#path, Infinity)}: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
    try {
      // Nothing here needs to survive a crash: no journal, no sync, one connection.
      this.#db.exec(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; " +
          `PRAGMA cache_size = ${-1024 * SPILL_CACHE_MIB}; PRAGMA temp_store = FILE; ` +
          "CREATE TABLE counts (key TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
      );
      this.#upsert = this.#db.prepare(
        "INSERT INTO counts (key, n) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET n = n + excluded.n",
      );
    } catch (err) {
      this.close();
      throw new StoreError(
        `Cannot use the temporary counting file ${quote(this.#path, Infinity)}: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
    try {
      // POSIX keeps an unlinked file readable by whoever has it open.
      Deno.removeSync(this.#path);
      this.#unlinked = true;
    } catch {
      // Where an open file cannot be removed, close() removes it.
    }
  }

  add(counts: Map<string, number>): void {
    this.#db.exec("BEGIN");
    try {
      for (const [key, n] of counts) this.#upsert.run(key, n);
      this.#db.exec("COMMIT");
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw new StoreError(
        `Cannot write the temporary counting file ${quote(this.#path, Infinity)}: ${
          (err as Error).message
        }`,
        { cause: err },
      );
    }
  }

  top(limit: number): [string, number][] {
    // With LIMIT, SQLite's sorter keeps only `limit` rows: memory stays small.
    const rows = this.#db.prepare("SELECT key, n FROM counts ORDER BY n DESC, key LIMIT ?")
      .all(limit) as { key: string; n: number }[];
    return rows.map((row) => [row.key, row.n]);
  }

  totals(): { records: number; distinct: number } {
    const row = this.#db.prepare(
      "SELECT count(*) AS distinct_keys, total(n) AS records FROM counts",
    )
      .get() as { distinct_keys: number; records: number };
    return { records: row.records, distinct: row.distinct_keys };
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
    if (!this.#unlinked) {
      try {
        Deno.removeSync(this.#path);
      } catch {
        // Gone already; removeCountFiles() sweeps any left at the next start.
      }
      this.#unlinked = true;
    }
  }
}

/** Removes temporary counting files left behind (only where open files cannot be unlinked). */
export async function removeCountFiles(dir: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.startsWith(SPILL_PREFIX)) {
        await Deno.remove(join(dir, entry.name)).catch(() => {});
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
