/** SQL for licences and client participation. No rules, only rows. */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** A licence row as stored. */
export interface LicenceRow {
  id: number;
  key_hash: Uint8Array;
  customer: string;
  valid_from: number;
  expires: number;
  state: "active" | "revoked";
  modes: string;
  quota: number | null;
  notes: string | null;
  created_at: number;
  revoked_at: number | null;
  grace_until: number | null;
  replaced_by: number | null;
}

/** A licence row joined with its client's participation choice. */
export interface LicenceWithParticipation extends LicenceRow {
  mode: string | null;
  statement_version: number | null;
}

const SELECT_LICENCE = "SELECT l.*, p.mode, p.statement_version FROM licence l " +
  "LEFT JOIN participation p ON p.licence_id = l.id";

/** Prepared statements over the licence tables. */
export class LicenceRepository {
  readonly #byHash: StatementSync;
  readonly #byId: StatementSync;
  readonly #all: StatementSync;
  readonly #insert: StatementSync;
  readonly #update: StatementSync;
  readonly #setParticipation: StatementSync;

  constructor(db: DatabaseSync) {
    this.#byHash = db.prepare(`${SELECT_LICENCE} WHERE l.key_hash = ?`);
    this.#byId = db.prepare(`${SELECT_LICENCE} WHERE l.id = ?`);
    this.#all = db.prepare(`${SELECT_LICENCE} ORDER BY l.id`);
    this.#insert = db.prepare(
      "INSERT INTO licence (key_hash, customer, valid_from, expires, state, modes, quota, notes, " +
        "created_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?) RETURNING id",
    );
    this.#update = db.prepare(
      "UPDATE licence SET state = ?, revoked_at = ?, grace_until = ?, replaced_by = ?, " +
        "expires = ?, modes = ?, quota = ?, notes = ? WHERE id = ?",
    );
    this.#setParticipation = db.prepare(
      "INSERT INTO participation (licence_id, mode, statement_version, chosen_at) " +
        "VALUES (?, ?, ?, ?) ON CONFLICT (licence_id) DO UPDATE SET mode = excluded.mode, " +
        "statement_version = excluded.statement_version, chosen_at = excluded.chosen_at",
    );
  }

  /** The licence whose key hashes to `hash`. */
  byHash(hash: Uint8Array): LicenceWithParticipation | undefined {
    return this.#byHash.get(hash) as LicenceWithParticipation | undefined;
  }

  /** The licence with this id. */
  byId(id: number): LicenceWithParticipation | undefined {
    return this.#byId.get(id) as LicenceWithParticipation | undefined;
  }

  /** Every licence, oldest first. */
  all(): LicenceWithParticipation[] {
    return this.#all.all() as unknown as LicenceWithParticipation[];
  }

  /** Inserts a licence and returns its id. */
  insert(
    row: Omit<LicenceRow, "id" | "state" | "revoked_at" | "grace_until" | "replaced_by">,
  ): number {
    const out = this.#insert.get(
      row.key_hash,
      row.customer,
      row.valid_from,
      row.expires,
      row.modes,
      row.quota,
      row.notes,
      row.created_at,
    ) as { id: number };
    return Number(out.id);
  }

  /** Writes the mutable fields of a licence. */
  update(row: LicenceRow): void {
    this.#update.run(
      row.state,
      row.revoked_at,
      row.grace_until,
      row.replaced_by,
      row.expires,
      row.modes,
      row.quota,
      row.notes,
      row.id,
    );
  }

  /** Records a client's participation choice. */
  setParticipation(
    licenceId: number,
    mode: string,
    statementVersion: number | null,
    at: number,
  ): void {
    this.#setParticipation.run(licenceId, mode, statementVersion, at);
  }
}

/** How many licences are registered, whatever their state. Asked rarely, so prepared per call. */
export function countLicences(db: DatabaseSync): number {
  return Number((db.prepare("SELECT count(*) AS n FROM licence").get() as { n: number }).n);
}
