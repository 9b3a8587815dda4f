/**
 * The `attr` table: each distinct (verdict, threat, categories, ttl, source) is stored once and
 * entry rows name it by id, since those values repeat across millions of rows. Most writers
 * resolve ids in SQL inside their own statements, the import (the one bulk writer in a single
 * transaction) from a map of its own, the feed appliers from a map of committed ids; readers
 * resolve them from an in-process cache. Attr rows are never updated or deleted, so a committed
 * id means the same values in every process.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { quote, StoreError } from "../core/mod.ts";

/** The attribute values of an entry row, as one `attr` row holds them. */
export interface AttrValues {
  verdict: number;
  threat: string | null;
  categories: string | null;
  ttl: number | null;
  source: string;
}

/**
 * The id of the attr row holding five bound values (verdict, threat, categories, ttl, source),
 * or NULL when there is none. Its terms match the `attr_values` index expression for expression,
 * so SQLite finds the row through it; x'' stands for NULL as it does there.
 */
export const ATTR_ID = attrIdQuery("?", "?", "?", "?", "?");

/** {@link ATTR_ID} with its five values bound to the numbered parameters ?first to ?first+4. */
export function numberedAttrId(first: number): string {
  return attrIdQuery(
    `?${first}`,
    `?${first + 1}`,
    `?${first + 2}`,
    `?${first + 3}`,
    `?${first + 4}`,
  );
}

function attrIdQuery(
  verdict: string,
  threat: string,
  categories: string,
  ttl: string,
  source: string,
): string {
  return `(SELECT id FROM main.attr WHERE verdict = ${verdict} ` +
    `AND coalesce(threat, x'') = coalesce(${threat}, x'') ` +
    `AND coalesce(categories, x'') = coalesce(${categories}, x'') ` +
    `AND coalesce(ttl, x'') = coalesce(${ttl}, x'') AND source = ${source})`;
}

/** Joined onto `entry AS e` as `a`; CROSS JOIN keeps SQLite from looping over attr first. */
export const JOIN_ATTR = "CROSS JOIN main.attr AS a ON a.id = e.attr";

// Distinct attribute sets are few (134 at 1M benchmark records); the bounds only stop a
// feed of unique threat names from growing the cache without end.
const CACHE_ENTRIES = 65_536;
const CACHE_BYTES = 16 * 1024 * 1024;
// The Map slot and the object around the strings.
const ROW_OVERHEAD_BYTES = 96;

/** Attr rows by id, read from the table once and then kept, bounded in entries and bytes. */
export class AttrCache {
  readonly #db: DatabaseSync;
  readonly #read: StatementSync;
  readonly #byId = new Map<number, AttrValues>();
  #bytes = 0;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#read = db.prepare(
      "SELECT verdict, threat, categories, ttl, source FROM main.attr WHERE id = ?",
    );
  }

  /** The values of attr row `id`; throws if the table has no such row. */
  values(id: number): AttrValues {
    return this.#byId.get(id) ?? this.#load(id);
  }

  #load(id: number): AttrValues {
    const row = this.#read.get(id) as AttrValues | undefined;
    if (row === undefined) {
      throw new StoreError(
        `Cannot read entry: attr row ${quote(String(id))} is missing; run "pksn db check"`,
      );
    }
    const values: AttrValues = {
      verdict: Number(row.verdict),
      threat: row.threat,
      categories: row.categories,
      ttl: row.ttl === null ? null : Number(row.ttl),
      source: row.source,
    };
    // Committed rows never change (attr rows are neither updated nor deleted). One that this
    // connection's open transaction added may still roll back and its id go to other values,
    // so a row read inside a transaction is not kept.
    if (!this.#db.isTransaction) this.#keep(id, values);
    return values;
  }

  #keep(id: number, values: AttrValues): void {
    const bytes = ROW_OVERHEAD_BYTES +
      2 * ((values.threat?.length ?? 0) + (values.categories?.length ?? 0) + values.source.length);
    if (this.#byId.size >= CACHE_ENTRIES || this.#bytes + bytes > CACHE_BYTES) {
      this.#byId.clear();
      this.#bytes = 0;
    }
    this.#byId.set(id, values);
    this.#bytes += bytes;
  }
}

/**
 * Attr ids by values for the writes of one transaction, adding rows as needed. An id this
 * connection added is right only until its transaction ends (a rollback frees it for other
 * values), so use one only within a single transaction and drop it after.
 */
export class TransactionAttrIds {
  readonly #adder: AttrAdder;
  readonly #find: StatementSync;
  readonly #ids = new Map<string, number>();
  #bytes = 0;

  constructor(db: DatabaseSync) {
    this.#adder = new AttrAdder(db);
    this.#find = db.prepare(`SELECT ${ATTR_ID} AS id`);
  }

  /** The id of the attr row holding `values`, added if there is none. */
  id(values: AttrValues): number {
    const { verdict, threat, categories, ttl, source } = values;
    // Lengths first, so no two sets of values give one string.
    const key = `${verdict}|${ttl ?? "-"}|${threat === null ? "-" : threat.length}|` +
      `${categories === null ? "-" : categories.length}|${threat ?? ""}${
        categories ?? ""
      }${source}`;
    return this.#ids.get(key) ?? this.#add(key, values);
  }

  #add(key: string, values: AttrValues): number {
    const find = (): number | null =>
      (this.#find.get(
        values.verdict,
        values.threat,
        values.categories,
        values.ttl,
        values.source,
      ) as { id: number | null }).id;
    let id = find();
    if (id === null) {
      this.#adder.add(values);
      id = find();
      if (id === null) {
        throw new StoreError("Cannot add attr row: it was not found after adding it");
      }
    }
    const bytes = ROW_OVERHEAD_BYTES + 2 * key.length;
    if (this.#ids.size >= CACHE_ENTRIES || this.#bytes + bytes > CACHE_BYTES) {
      this.#ids.clear();
      this.#bytes = 0;
    }
    this.#ids.set(key, Number(id));
    this.#bytes += bytes;
    return Number(id);
  }
}

/** An id {@link CommittedAttrIds} found for a values object, with the values it was found for. */
interface KnownAttrId extends AttrValues {
  // 0 when the writer must name the row by its values.
  id: number;
}

/**
 * Ids of committed attr rows, for writers that name one per row (the feed appliers): applying
 * 200k snapshot rows or delta changes by id took about a fifth less CPU than with
 * {@link ATTR_ID}'s look-up per row. Only ids no higher than the highest one when this was made
 * outside a transaction are given out: those rows were committed then (SQLite gives a new row an
 * id above the highest), and attr rows are never updated or deleted, so they hold the same
 * values in every later transaction. A row added since may still roll back and its id go to
 * other values, so for its values {@link CommittedAttrIds.committedId} gives 0 and the writer names the row
 * through {@link ATTR_ID}, as before. Made inside a transaction, it knows no committed id at all.
 * Make one per apply: sets added since it was made are never given out by id.
 */
export class CommittedAttrIds {
  readonly #find: StatementSync;
  readonly #committed: number;
  // Keyed by the values object itself: the appliers pass the one object of the feed's attribute
  // table for every record that names it, so a look-up builds no key per row. The values are
  // compared as well, so an object changed in place is looked up again.
  readonly #known = new WeakMap<AttrValues, KnownAttrId>();

  constructor(db: DatabaseSync) {
    this.#find = db.prepare(`SELECT ${ATTR_ID} AS id`);
    this.#committed = db.isTransaction ? 0 : highestAttrId(db);
  }

  /** The id of the committed attr row holding `values`, or 0 if there is none known. */
  committedId(values: AttrValues): number {
    const known = this.#known.get(values);
    if (
      known !== undefined && known.verdict === values.verdict && known.threat === values.threat &&
      known.categories === values.categories && known.ttl === values.ttl &&
      known.source === values.source
    ) {
      return known.id;
    }
    return this.#look(values);
  }

  #look(values: AttrValues): number {
    const { verdict, threat, categories, ttl, source } = values;
    // Nothing to look up in an attr table that had no rows when this was made.
    const found = this.#committed === 0
      ? null
      : (this.#find.get(verdict, threat, categories, ttl, source) as { id: number | null }).id;
    const id = found !== null && Number(found) <= this.#committed ? Number(found) : 0;
    this.#known.set(values, { verdict, threat, categories, ttl, source, id });
    return id;
  }
}

function highestAttrId(db: DatabaseSync): number {
  const row = db.prepare("SELECT coalesce(max(id), 0) AS id FROM main.attr").get() as {
    id: number;
  };
  return Number(row.id);
}

/**
 * Adds attr rows for the statements that name them through {@link ATTR_ID}. Such a statement
 * fails on the NOT NULL `attr` column when a row is missing, and SQLite undoes the whole
 * statement; {@link AttrAdder.retry} then adds the rows and runs it once more. So no writer holds
 * an attr id in memory but those of committed rows ({@link CommittedAttrIds}), and a
 * rolled-back transaction cannot leave a wrong one behind.
 */
export class AttrAdder {
  readonly #add: StatementSync;

  constructor(db: DatabaseSync) {
    // Never a duplicate: the attr_values index treats NULLs as equal.
    this.#add = db.prepare(
      "INSERT INTO main.attr (verdict, threat, categories, ttl, source) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT DO NOTHING",
    );
  }

  /** Adds the attr row holding `values` unless there is one. */
  add(values: AttrValues): void {
    this.#add.run(values.verdict, values.threat, values.categories, values.ttl, values.source);
  }

  /** Runs `write`; if it failed for a missing attr row, adds `needed()`'s rows and runs it again. */
  retry<T>(write: () => T, needed: () => Iterable<AttrValues>): T {
    try {
      return write();
    } catch (err) {
      if (!isMissingAttr(err)) throw err;
    }
    for (const values of needed()) this.add(values);
    return write();
  }

  /**
   * {@link retry} for a write that names one attr row: runs `write(row, values)`, and if it
   * failed for a missing attr row, adds the row holding `values` and runs it again. Made for
   * writers that run per row: with `write` made once, a call allocates nothing.
   */
  retryOne<R>(write: (row: R, values: AttrValues) => void, row: R, values: AttrValues): void {
    try {
      write(row, values);
      return;
    } catch (err) {
      if (!isMissingAttr(err)) throw err;
    }
    this.add(values);
    write(row, values);
  }
}

/** Whether `err` is SQLite refusing a NULL attr id, which {@link ATTR_ID} gives for a missing row. */
function isMissingAttr(err: unknown): boolean {
  return err instanceof Error && /^NOT NULL constraint failed: \w+\.attr$/.test(err.message);
}
