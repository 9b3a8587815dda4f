/** SQL for the quarantine's index (table `sample`). No rules, only rows. */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** A sample row as written; times are Unix seconds. */
export interface SampleRow {
  /** The 32-byte SHA-256 the file is stored under. */
  sha256: Uint8Array;
  size: number;
  receivedAt: number;
  licenceId: number;
  /** JSON text. */
  meta: string;
}

/** A sample row as listed, with its place in the upstream spool when it waits there. */
export interface ListedSampleRow {
  sha256: Uint8Array;
  size: number;
  receivedAt: number;
  meta: string | null;
  /** 1 when the sample waits in the spool to go upstream. */
  queued: number;
  attempts: number | null;
  lastError: string | null;
}

/** Prepared statements over `sample`. */
export class SampleIndex {
  readonly #exists: StatementSync;
  readonly #used: StatementSync;
  readonly #insert: StatementSync;
  readonly #meta: StatementSync;
  readonly #expired: StatementSync;
  readonly #delete: StatementSync;
  readonly #recent: StatementSync;
  readonly #count: StatementSync;

  constructor(db: DatabaseSync) {
    this.#exists = db.prepare("SELECT 1 AS found FROM sample WHERE sha256 = ?");
    this.#used = db.prepare("SELECT coalesce(sum(size), 0) AS n FROM sample");
    this.#insert = db.prepare(
      "INSERT INTO sample (sha256, size, received_at, licence_id, meta) VALUES (?, ?, ?, ?, ?)",
    );
    this.#meta = db.prepare("SELECT meta FROM sample WHERE sha256 = ?");
    this.#expired = db.prepare(
      "SELECT sha256 FROM sample WHERE received_at < ? ORDER BY received_at LIMIT 500",
    );
    this.#delete = db.prepare("DELETE FROM sample WHERE sha256 = ?");
    // The spool names a sample by a batch id made of a prefix and its hex SHA-256.
    this.#recent = db.prepare(
      `SELECT s.sha256, s.size, s.received_at AS receivedAt, s.meta,
              (q.id IS NOT NULL) AS queued, q.attempts, q.last_error AS lastError
       FROM sample s LEFT JOIN upstream_spool q ON q.batch_id = ? || lower(hex(s.sha256))
       ORDER BY s.received_at DESC, s.sha256 LIMIT ?`,
    );
    this.#count = db.prepare("SELECT count(*) AS n FROM sample");
  }

  /** The newest `limit` samples; `batchPrefix` is what the spool's batch ids start with. */
  recent(limit: number, batchPrefix: string): ListedSampleRow[] {
    return this.#recent.all(batchPrefix, limit) as unknown as ListedSampleRow[];
  }

  /** How many samples are recorded. */
  count(): number {
    return Number((this.#count.get() as { n: number }).n);
  }

  /** Whether a sample with this SHA-256 is recorded. */
  has(sha256: Uint8Array): boolean {
    return this.#exists.get(sha256) !== undefined;
  }

  /** The sum of every recorded sample's size in bytes. */
  usedBytes(): number {
    return Number((this.#used.get() as { n: number }).n);
  }

  /** Records a sample. */
  insert(row: SampleRow): void {
    this.#insert.run(row.sha256, row.size, row.receivedAt, row.licenceId, row.meta);
  }

  /** The stored `meta` column of a sample (null when empty), or undefined when it is not recorded. */
  meta(sha256: Uint8Array): { meta: string | null } | undefined {
    return this.#meta.get(sha256) as { meta: string | null } | undefined;
  }

  /** The SHA-256s of up to 500 samples received before `before` (Unix seconds), oldest first. */
  receivedBefore(before: number): Uint8Array[] {
    return (this.#expired.all(before) as { sha256: Uint8Array }[]).map((row) => row.sha256);
  }

  /** Forgets a sample. */
  delete(sha256: Uint8Array): void {
    this.#delete.run(sha256);
  }
}
