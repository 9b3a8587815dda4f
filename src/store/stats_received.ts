/**
 * Statistics batches received with an idempotency key (table `stats_received`).
 * The stored id is the licence id and the client's key (`"7:KEY"`), so two
 * licences that happen to pick the same key never answer each other's batches.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { transaction } from "./database.ts";

/** The first answer to a batch. */
export interface ReceivedBatch {
  accepted: number;
  rejected: number;
}

/** Reads and records received batches; statements prepared once. */
export class StatsReceivedRepository {
  readonly #db: DatabaseSync;
  readonly #find: StatementSync;
  readonly #insert: StatementSync;
  readonly #prune: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#find = db.prepare(
      "SELECT accepted, rejected FROM stats_received WHERE batch_id = ? AND licence_id = ?",
    );
    this.#insert = db.prepare(
      "INSERT OR IGNORE INTO stats_received (batch_id, licence_id, received_at, accepted, rejected) " +
        "VALUES (?, ?, ?, ?, ?)",
    );
    this.#prune = db.prepare("DELETE FROM stats_received WHERE received_at < ?");
  }

  /** The first answer to `key` from `licenceId`, if any. */
  find(licenceId: number, key: string): ReceivedBatch | undefined {
    const row = this.#find.get(storedId(licenceId, key), licenceId) as ReceivedBatch | undefined;
    return row === undefined
      ? undefined
      : { accepted: Number(row.accepted), rejected: Number(row.rejected) };
  }

  /**
   * Records the answer to `key` from `licenceId` at `at` (Unix seconds), and
   * runs `alongside` (queueing the batch upstream) in the same transaction, so
   * a crash cannot leave the key recorded but the batch not queued.
   */
  record(
    licenceId: number,
    key: string,
    at: number,
    result: ReceivedBatch,
    alongside: () => void = () => {},
  ): void {
    transaction(this.#db, () => {
      this.#insert.run(storedId(licenceId, key), licenceId, at, result.accepted, result.rejected);
      alongside();
    });
  }

  /** Forgets keys received before `before` (Unix seconds); returns how many. */
  prune(before: number): number {
    return Number(this.#prune.run(before).changes);
  }
}

function storedId(licenceId: number, key: string): string {
  return `${licenceId}:${key}`;
}
