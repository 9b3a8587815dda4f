/**
 * What an RPZ zone is built from, and the zone's recent history for incremental transfers. Both
 * are read in key-range chunks (one lead byte, then the next byte: 256 chunks a lead), so a zone
 * of millions of names is never held in memory at once. This module knows keys, origins and
 * verdict codes as numbers; which of them make a policy is the caller's.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { JOIN_ATTR } from "./attrs.ts";

/** The bounds `[from, to)` of the keys starting with `lead` and then `second`. */
export function chunkRange(lead: number, second: number): [Uint8Array, Uint8Array] {
  return [
    Uint8Array.of(lead, second),
    second === 255 ? Uint8Array.of(lead + 1) : Uint8Array.of(lead, second + 1),
  ];
}

/** An entry that wins for its key (a local override, else the mirror's row). */
export interface WinningRow {
  key: Uint8Array;
  origin: number;
  verdict: number;
}

/**
 * Reads, chunk by chunk in key order, the winning rows whose verdict is one of `anyOrigin`, or
 * one of `localOnly` when the winner is a local override. A mirror row under a local override of
 * another verdict is not returned: the override wins.
 */
export class WinningRows {
  readonly #chunk: StatementSync;
  readonly #anyOrigin: string;
  readonly #localOnly: string;

  constructor(db: DatabaseSync, verdicts: { anyOrigin: number[]; localOnly: number[] }) {
    this.#chunk = db.prepare(
      `SELECT e.key AS key, e.origin AS origin, a.verdict AS verdict FROM entry AS e ${JOIN_ATTR} ` +
        "WHERE e.key >= ?1 AND e.key < ?2 AND " +
        "(a.verdict IN (SELECT value FROM json_each(?3)) OR " +
        "(e.origin = 1 AND a.verdict IN (SELECT value FROM json_each(?4)))) AND " +
        "(e.origin = 1 OR " +
        "NOT EXISTS (SELECT 1 FROM entry AS l WHERE l.key = e.key AND l.origin = 1)) " +
        "ORDER BY e.key",
    );
    this.#anyOrigin = JSON.stringify(verdicts.anyOrigin);
    this.#localOnly = JSON.stringify(verdicts.localOnly);
  }

  /** The rows of keys starting with `lead`, `second`, in key order. */
  chunk(lead: number, second: number): WinningRow[] {
    const [from, to] = chunkRange(lead, second);
    return this.#chunk.all(from, to, this.#anyOrigin, this.#localOnly) as unknown as WinningRow[];
  }
}

/** One policy record of the zone's history: present from serial `added` until `removed`. */
export interface JournalRow {
  key: Uint8Array;
  action: number;
  added: number;
  removed: number | null;
}

/**
 * The zone's records with the serials they were added and removed at, in a TEMP table of the
 * connection it is given (a connection of its own: the table lives and dies with it, and is
 * kept in a temporary file rather than in memory). The zone at serial S is every row added at or
 * before S and not removed by S, so a transfer of S reads a consistent zone while a newer one is
 * being written.
 */
export class RpzJournal {
  readonly #current: StatementSync;
  readonly #at: StatementSync;
  readonly #changed: StatementSync;
  readonly #add: StatementSync;
  readonly #remove: StatementSync;
  readonly #prune: StatementSync;

  constructor(db: DatabaseSync) {
    // Spilled to a file: a zone of millions of names must not sit in the process's memory.
    db.exec("PRAGMA temp_store = FILE");
    db.exec("DROP TABLE IF EXISTS temp.rpz_record");
    db.exec(
      "CREATE TEMP TABLE rpz_record (key BLOB NOT NULL, added INTEGER NOT NULL, " +
        "action INTEGER NOT NULL, removed INTEGER, PRIMARY KEY (key, added)) WITHOUT ROWID",
    );
    const cols = "key, action, added, removed";
    this.#current = db.prepare(
      `SELECT ${cols} FROM temp.rpz_record WHERE key >= ? AND key < ? AND removed IS NULL ORDER BY key`,
    );
    this.#at = db.prepare(
      `SELECT ${cols} FROM temp.rpz_record WHERE key >= ?1 AND key < ?2 AND added <= ?3 ` +
        "AND (removed IS NULL OR removed > ?3) ORDER BY key",
    );
    this.#changed = db.prepare(
      `SELECT ${cols} FROM temp.rpz_record WHERE key >= ?1 AND key < ?2 ` +
        "AND (added > ?3 OR removed > ?3) ORDER BY key",
    );
    this.#add = db.prepare(
      "INSERT INTO temp.rpz_record (key, added, action, removed) VALUES (?, ?, ?, NULL)",
    );
    this.#remove = db.prepare(
      "UPDATE temp.rpz_record SET removed = ? WHERE key = ? AND removed IS NULL",
    );
    this.#prune = db.prepare("DELETE FROM temp.rpz_record WHERE removed <= ?");
  }

  /** The records present now (not removed), of one chunk, in key order. */
  current(lead: number, second: number): JournalRow[] {
    return this.#current.all(...chunkRange(lead, second)) as unknown as JournalRow[];
  }

  /** The records of one chunk as the zone was at `serial`, in key order. */
  at(lead: number, second: number, serial: number): JournalRow[] {
    const [from, to] = chunkRange(lead, second);
    return this.#at.all(from, to, serial) as unknown as JournalRow[];
  }

  /** The records of one chunk added or removed after `serial`, in key order. */
  changedAfter(lead: number, second: number, serial: number): JournalRow[] {
    const [from, to] = chunkRange(lead, second);
    return this.#changed.all(from, to, serial) as unknown as JournalRow[];
  }

  /** Records `key` with `action` as present from `serial` on. */
  add(key: Uint8Array, action: number, serial: number): void {
    this.#add.run(key, serial, action);
  }

  /** Marks the present record of `key` as removed at `serial`. */
  remove(key: Uint8Array, serial: number): void {
    this.#remove.run(serial, key);
  }

  /** Forgets the records removed at or before `serial`: no transfer can ask for them. */
  prune(serial: number): void {
    this.#prune.run(serial);
  }
}
