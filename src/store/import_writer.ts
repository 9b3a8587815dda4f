/**
 * Writing one import's rows into the entry table, with a log of the key and
 * line of each. A row whose key may have been written before (a filter's
 * candidate) is held back in a second table; at the end those rows are read
 * in key order next to the logged line of their key, so finding repeated keys
 * costs disk and one scan of the log, not memory.
 *
 * Over 300 lines on purpose: one class owns the import's scratch tables (staged rows, the log,
 * held rows, outcomes) and the statements over them, whose order of use is the contract; split,
 * each part would have to know the others' tables.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { JOIN_ATTR, TransactionAttrIds } from "./attrs.ts";
import type { EntryRow, Origin } from "./entries.ts";

/** A held-back row, the line it came from and the line that wrote its key first, if any. */
export interface HeldRow extends Omit<EntryRow, "origin"> {
  line: number;
  /** The logged line of the key's first row, or null if no row of the key was written. */
  firstLine: number | null;
}

/** The values of a stored row that say what an object is. */
export interface StoredValues {
  verdict: number;
  threat: string | null;
  categories: string | null;
}

/** What became of one line that repeated keys: `message` is set for a reported conflict. */
export interface RepeatOutcome {
  line: number;
  conflict: boolean;
  message: string | null;
}

const SCHEMA = "pksn_import";
const COLUMNS = "key, verdict, threat, categories, first_seen, last_seen, ttl, source";
const UPSERT = "ON CONFLICT (key, origin) DO UPDATE SET attr = excluded.attr, " +
  "first_seen = excluded.first_seen, last_seen = excluded.last_seen";
const ROW_VALUES = 4; // Bound per staged row: key, attr, first_seen, last_seen.
// Rows per statement: one statement for 64 rows costs about half as much per
// row as one statement each at 300k records, which pays for the log. At 4M it
// is no faster: a statement of many rows keeps a copy of every page it changes
// (in case it fails half-way), and by then each row changes a page of its own.
const CHUNK = 64;
// Memory for the scratch database's pages and for sorting the held-back rows,
// whose budget SQLite takes from the main database's cache size.
const SCRATCH_CACHE_MIB = 64;
const TEMP_STORE_FILE = 1;

/**
 * The entry writes of one import. The log lives in a private temporary
 * database that SQLite deletes on close: a file in SQLite's temporary folder
 * (the SQLITE_TMPDIR or TMPDIR environment variable, else /var/tmp), whatever
 * `temp_store` the connection uses. Make the writer before the import's
 * transaction and dispose of it after: SQLite attaches and detaches databases
 * only outside one.
 */
export class ImportWriter implements Disposable {
  readonly #db: DatabaseSync;
  readonly #origin: Origin;
  readonly #upsertOne: StatementSync;
  readonly #stage: StatementSync;
  readonly #stageOne: StatementSync;
  readonly #unstage: StatementSync;
  #staged = 0;
  readonly #log: StatementSync;
  readonly #logOne: StatementSync;
  readonly #hold: StatementSync;
  readonly #stored: StatementSync;
  readonly #outcome: StatementSync;
  // Right for the writer's one transaction, which its unjournaled log already assumes.
  readonly #attrIds: TransactionAttrIds;
  readonly #values: unknown[] = new Array(CHUNK * ROW_VALUES);
  readonly #logValues: unknown[] = new Array(CHUNK * 2);
  #held = 0;

  // The schema of the import's log: an attached scratch database, or the temp schema.
  readonly #schema: string;

  constructor(db: DatabaseSync, origin: Origin) {
    this.#db = db;
    this.#origin = origin;
    const tempStore = readPragma(db, "temp_store");
    // An unnamed database follows temp_store when it is attached, and only then.
    db.exec(`PRAGMA temp_store = ${TEMP_STORE_FILE}`);
    try {
      db.exec(`ATTACH DATABASE '' AS ${SCHEMA}`);
      this.#schema = SCHEMA;
    } catch (err) {
      // Deno's node:sqlite allows no ATTACH unless the program may read and write any file
      // (the appliance's serve may not): the connection's own temp schema holds the log then.
      if (!/too many attached databases/.test((err as Error).message)) throw err;
      this.#schema = "temp";
    } finally {
      db.exec(`PRAGMA temp_store = ${tempStore}`);
    }
    const scratch = this.#schema;
    try {
      db.exec(`PRAGMA ${scratch}.journal_mode = OFF`);
      db.exec(`PRAGMA ${scratch}.synchronous = OFF`);
      db.exec(`PRAGMA ${scratch}.cache_size = ${-1024 * SCRATCH_CACHE_MIB}`);
      db.exec(`CREATE TABLE ${scratch}.written (key BLOB NOT NULL, line INTEGER NOT NULL)`);
      db.exec(
        `CREATE TABLE ${scratch}.staged (key BLOB NOT NULL, attr INTEGER NOT NULL, ` +
          "first_seen INTEGER, last_seen INTEGER)",
      );
      db.exec(
        `CREATE TABLE ${scratch}.held (line INTEGER NOT NULL, key BLOB NOT NULL, ` +
          "verdict INTEGER NOT NULL, threat TEXT, categories TEXT, first_seen INTEGER, " +
          "last_seen INTEGER, ttl INTEGER, source TEXT NOT NULL)",
      );
      db.exec(
        `CREATE TABLE ${scratch}.outcome (line INTEGER NOT NULL, conflict INTEGER NOT NULL, ` +
          "message TEXT)",
      );
      this.#upsertOne = db.prepare(
        "INSERT INTO main.entry (origin, key, attr, first_seen, last_seen) VALUES " +
          `(?, ?, ?, ?, ?) ${UPSERT}`,
      );
      const stage = (rows: number): StatementSync =>
        db.prepare(
          `INSERT INTO ${scratch}.staged (key, attr, first_seen, last_seen) VALUES ` +
            new Array(rows).fill("(?, ?, ?, ?)").join(", "),
        );
      this.#stage = stage(CHUNK);
      this.#stageOne = stage(1);
      // WHERE true: SQLite needs it to tell the upsert's ON from a join's.
      this.#unstage = db.prepare(
        "INSERT INTO main.entry (origin, key, attr, first_seen, last_seen) " +
          `SELECT ${origin}, key, attr, first_seen, last_seen FROM ${scratch}.staged ` +
          `WHERE true ORDER BY key, rowid ${UPSERT}`,
      );
      const log = (rows: number): StatementSync =>
        db.prepare(
          `INSERT INTO ${scratch}.written (key, line) VALUES ` +
            new Array(rows).fill("(?, ?)").join(", "),
        );
      this.#log = log(CHUNK);
      this.#logOne = log(1);
      this.#hold = db.prepare(
        `INSERT INTO ${scratch}.held (line, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      this.#stored = db.prepare(
        `SELECT a.verdict, a.threat, a.categories FROM main.entry AS e ${JOIN_ATTR} ` +
          "WHERE e.key = ? AND e.origin = ?",
      );
      this.#attrIds = new TransactionAttrIds(db);
      this.#outcome = db.prepare(
        `INSERT INTO ${scratch}.outcome (line, conflict, message) VALUES (?, ?, ?)`,
      );
    } catch (err) {
      this.#dropLog();
      throw err;
    }
  }

  /**
   * Inserts or replaces rows under this import's origin and logs the key and line of each
   * (`lines[i]` is the line of `rows[i]`). The rows are staged and reach the entry table in
   * key order at {@link finishWrites}: one ordered pass over the B-tree instead of batches
   * landing all over it (each insert of a random key at ten million rows touched a page of its
   * own). A key written twice keeps its later row (its rowid in the staging table is higher).
   */
  write(rows: readonly EntryRow[], lines: readonly number[]): void {
    const values = this.#values;
    const logValues = this.#logValues;
    const attrIds = this.#attrIds;
    let start = 0;
    for (; start + CHUNK <= rows.length; start += CHUNK) {
      for (let i = 0; i < CHUNK; i++) {
        const row = rows[start + i];
        const at = ROW_VALUES * i;
        values[at] = row.key;
        values[at + 1] = attrIds.id(row);
        values[at + 2] = row.first_seen;
        values[at + 3] = row.last_seen;
        logValues[2 * i] = row.key;
        logValues[2 * i + 1] = lines[start + i];
      }
      this.#stage.run(...values as never[]);
      this.#log.run(...logValues as never[]);
    }
    for (let i = start; i < rows.length; i++) {
      const row = rows[i];
      this.#stageOne.run(row.key, attrIds.id(row), row.first_seen, row.last_seen);
      this.#logOne.run(row.key, lines[i]);
    }
    this.#staged += rows.length;
  }

  /** Moves the staged rows into the entry table, in key order; call after the last write. */
  finishWrites(): void {
    if (this.#staged === 0) return;
    const db = this.#db;
    const tempStore = readPragma(db, "temp_store");
    try {
      // The sort spills to a file rather than growing in memory with the import.
      db.exec(`PRAGMA temp_store = ${TEMP_STORE_FILE}`);
    } catch {
      // Kept as it was.
    }
    try {
      this.#unstage.run();
      db.exec(`DELETE FROM ${this.#schema}.staged`);
      this.#staged = 0;
    } finally {
      db.exec(`PRAGMA temp_store = ${tempStore}`);
    }
  }

  /** Inserts or replaces one row under this import's origin, without logging it. */
  writeOne(row: Omit<EntryRow, "origin">): void {
    this.finishWrites();
    this.#upsertOne.run(
      this.#origin,
      row.key,
      this.#attrIds.id(row),
      row.first_seen,
      row.last_seen,
    );
  }

  /** Holds back a row whose key an earlier row of this import may have written. */
  hold(row: EntryRow, line: number): void {
    this.#hold.run(
      line,
      row.key,
      row.verdict,
      row.threat,
      row.categories,
      row.first_seen,
      row.last_seen,
      row.ttl,
      row.source,
    );
    this.#held++;
  }

  /**
   * Calls `each` for every held-back row, in key order and then line order,
   * with the logged line of its key. Reads the log once, in bounded memory;
   * call it once, after the last write.
   */
  forEachHeldRow(each: (row: HeldRow) => void): void {
    this.finishWrites();
    if (this.#held === 0) return;
    const db = this.#db;
    const cacheSize = readPragma(db, "cache_size");
    const tempStore = readPragma(db, "temp_store");
    // The look-up and sort below spill to files only with temp_store FILE, and
    // may use as much memory as the main cache size allows; the main cache
    // already holds the import's pages, so they get less. temp_store stays as
    // it was while rows are written: with FILE, every multi-row statement's
    // journal would go to a file too (measured: over twice the system time).
    db.exec(`PRAGMA main.cache_size = ${-1024 * SCRATCH_CACHE_MIB}`);
    try {
      // Refused only if the connection has temporary tables; pksn makes none,
      // and the look-up then stays where temp_store puts it.
      db.exec(`PRAGMA temp_store = ${TEMP_STORE_FILE}`);
    } catch {
      // Kept as it was.
    }
    try {
      // One scan of the log picks the lines of the held keys; a join straight
      // against the log would make SQLite index all of it first.
      db.exec(
        `CREATE TABLE ${this.#schema}.first AS SELECT key, line FROM ${this.#schema}.written ` +
          `WHERE key IN (SELECT key FROM ${this.#schema}.held)`,
      );
      db.exec(`CREATE INDEX ${this.#schema}.first_key ON first (key)`);
      const rows = db.prepare(
        `SELECT h.line, h.key, h.verdict, h.threat, h.categories, h.first_seen, h.last_seen, ` +
          `h.ttl, h.source, f.line AS firstLine FROM ${this.#schema}.held h ` +
          `LEFT JOIN ${this.#schema}.first f ON f.key = h.key ORDER BY h.key, h.line`,
      ).iterate() as Iterable<HeldRow>;
      for (const row of rows) {
        row.line = Number(row.line);
        row.verdict = Number(row.verdict);
        row.firstLine = row.firstLine === null ? null : Number(row.firstLine);
        each(row);
      }
    } finally {
      db.exec(`PRAGMA main.cache_size = ${cacheSize}`);
      db.exec(`PRAGMA temp_store = ${tempStore}`);
    }
  }

  /** What this import's origin holds for a key it wrote. */
  stored(key: Uint8Array): StoredValues {
    this.finishWrites();
    const row = this.#stored.get(key, this.#origin) as StoredValues | undefined;
    if (row === undefined) throw new Error("Asked for the row of a key this import did not write");
    return { verdict: Number(row.verdict), threat: row.threat, categories: row.categories };
  }

  /** Records what became of a line with a repeated key; a line may have several. */
  addOutcome(outcome: RepeatOutcome): void {
    this.#outcome.run(outcome.line, outcome.conflict ? 1 : 0, outcome.message);
  }

  /** Calls `each` once a line, in line order: a conflict if any of its keys conflicted. */
  forEachOutcome(each: (outcome: RepeatOutcome) => void): void {
    // With max(), SQLite takes the bare column from the row that has the maximum.
    const rows = this.#db.prepare(
      `SELECT line, max(conflict) AS conflict, message FROM ${this.#schema}.outcome ` +
        "GROUP BY line ORDER BY line",
    ).iterate() as Iterable<{ line: number; conflict: number; message: string | null }>;
    for (const row of rows) {
      each({ line: Number(row.line), conflict: Number(row.conflict) === 1, message: row.message });
    }
  }

  /** Deletes the log; call outside a transaction. */
  [Symbol.dispose](): void {
    this.#dropLog();
  }

  #dropLog(): void {
    if (this.#schema !== "temp") {
      this.#db.exec(`DETACH DATABASE ${this.#schema}`);
      return;
    }
    for (const table of ["written", "staged", "held", "outcome", "first"]) {
      this.#db.exec(`DROP TABLE IF EXISTS temp.${table}`);
    }
  }
}

/** The main database's cache size, or the connection's temp_store. */
function readPragma(db: DatabaseSync, name: "cache_size" | "temp_store"): number {
  const pragma = name === "cache_size" ? "main.cache_size" : name;
  const row = db.prepare(`PRAGMA ${pragma}`).get() as Record<string, number>;
  return Number(row[name]);
}
