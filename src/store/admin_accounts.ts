/** SQL for the admin account, its sessions and the audit entries they write. No rules, only rows. */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { appendAudit } from "./audit.ts";

/** An admin session row. */
export interface AdminSessionRow {
  username: string;
  csrf_token: string;
  expires_at: number;
}

/** Prepared statements over `admin_account`, `admin_session` and `audit`. */
export class AdminAccountRepository {
  readonly #db: DatabaseSync;
  readonly #anyAccount: StatementSync;
  readonly #passwordHash: StatementSync;
  readonly #upsertAccount: StatementSync;
  readonly #insertSession: StatementSync;
  readonly #session: StatementSync;
  readonly #deleteSession: StatementSync;
  readonly #deleteUserSessions: StatementSync;
  readonly #deleteExpired: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#anyAccount = db.prepare("SELECT EXISTS (SELECT 1 FROM admin_account) AS any");
    this.#passwordHash = db.prepare("SELECT password_hash FROM admin_account WHERE username = ?");
    this.#upsertAccount = db.prepare(
      "INSERT INTO admin_account (username, password_hash, created_at, changed_at) " +
        "VALUES (?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET " +
        "password_hash = excluded.password_hash, changed_at = excluded.changed_at",
    );
    this.#insertSession = db.prepare(
      "INSERT INTO admin_session (id_hash, username, csrf_token, created_at, expires_at) " +
        "VALUES (?, ?, ?, ?, ?)",
    );
    this.#session = db.prepare(
      "SELECT username, csrf_token, expires_at FROM admin_session WHERE id_hash = ?",
    );
    this.#deleteSession = db.prepare("DELETE FROM admin_session WHERE id_hash = ?");
    this.#deleteUserSessions = db.prepare("DELETE FROM admin_session WHERE username = ?");
    this.#deleteExpired = db.prepare("DELETE FROM admin_session WHERE expires_at <= ?");
  }

  /** Whether any admin account exists. */
  hasAccount(): boolean {
    return (this.#anyAccount.get() as { any: number }).any === 1;
  }

  /** The stored password hash of `username`, or undefined. */
  passwordHash(username: string): string | undefined {
    return (this.#passwordHash.get(username) as { password_hash: string } | undefined)
      ?.password_hash;
  }

  /** Creates the account or replaces its password hash. */
  upsertAccount(username: string, passwordHash: string, at: number): void {
    this.#upsertAccount.run(username, passwordHash, at, at);
  }

  /** Stores a session under the hash of its id. */
  insertSession(
    idHash: Uint8Array,
    row: AdminSessionRow & { created_at: number },
  ): void {
    this.#insertSession.run(idHash, row.username, row.csrf_token, row.created_at, row.expires_at);
  }

  /** The session stored under `idHash`, or undefined. */
  session(idHash: Uint8Array): AdminSessionRow | undefined {
    return this.#session.get(idHash) as AdminSessionRow | undefined;
  }

  /** Deletes one session; returns whether it existed. */
  deleteSession(idHash: Uint8Array): boolean {
    return Number(this.#deleteSession.run(idHash).changes) > 0;
  }

  /** Deletes every session of `username`; returns how many. */
  deleteUserSessions(username: string): number {
    return Number(this.#deleteUserSessions.run(username).changes);
  }

  /** Deletes the sessions that expired at or before `at`. */
  deleteExpired(at: number): void {
    this.#deleteExpired.run(at);
  }

  /** Writes an audit entry (never secrets in `detail`). */
  audit(at: number, actor: string, action: string, detail: unknown): void {
    appendAudit(this.#db, { at, actor, action, detail });
  }
}
