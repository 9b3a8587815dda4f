/**
 * The licence lifecycle as the service provider runs it: register, list, show,
 * change, revoke, rotate with a grace period, import a customer's keys, and
 * publish the KSN Statement their clients accept. Every change is audited (who,
 * what, when) without key material.
 *
 * Over 300 lines on purpose: each operation is short, and keeping the lifecycle in one class
 * keeps every change next to the audit entry it writes.
 */
import { AppError, type Clock, InvalidInputError, toHex } from "../core/mod.ts";
import {
  appendAudit,
  type AuditFilter,
  bumpGeneration,
  type DatabaseSync,
  type LicenceRepository,
  type LicenceWithParticipation,
  readAudit,
  transaction,
} from "../store/mod.ts";
import { isoSeconds } from "./dates.ts";
import { generateKey, normalizeKey } from "./keys.ts";
import { CLIENT_MODES, type ClientMode } from "./modes.ts";
import { keyHash } from "./secret.ts";
import { publishStatement } from "./statement.ts";

/** A licence as operators see it: never the key, only a key id derived from its hash. */
export interface LicenceView {
  id: number;
  keyId: string;
  customer: string;
  status: "active" | "revoked" | "expired" | "not-yet-valid";
  validFrom: string;
  expires: string;
  graceUntil?: string;
  replacedBy?: number;
  modes: ClientMode[];
  quota: number | null;
  notes: string | null;
  participation: { mode: string; statementVersion: number | null } | null;
  createdAt: string;
}

/** What a new licence needs; dates in Unix seconds. */
export interface NewLicence {
  customer: string;
  expires: number;
  validFrom?: number;
  key?: string;
  quota?: number | null;
  modes?: readonly ClientMode[];
  notes?: string | null;
}

/** What {@link LicenceService.update} may change; a field left out stays as it is. */
export interface LicenceChanges {
  expires?: number;
  /** Requests per minute; null for no limit. */
  quota?: number | null;
  modes?: readonly ClientMode[];
  notes?: string | null;
}

/** The states {@link LicenceService.list} filters by: a status, or "expiring" (active, ending soon). */
export const LICENCE_STATES = [
  "active",
  "expiring",
  "expired",
  "revoked",
  "not-yet-valid",
] as const;
/** One of {@link LICENCE_STATES}. */
export type LicenceState = typeof LICENCE_STATES[number];

/** Which licences {@link LicenceService.list} answers. */
export interface LicenceFilter {
  /** Text the customer, the notes or the id contains, in any case. */
  text?: string;
  state?: LicenceState;
}

/** How close its end must be for an active licence to count as "expiring". */
export const EXPIRING_SECONDS = 30 * 86400;

/** An audit entry as operators see it. */
export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  licenceId: number | null;
  detail: unknown;
}

/** What {@link LicenceService} needs. */
export interface LicenceServiceDeps {
  db: DatabaseSync;
  licences: LicenceRepository;
  secret: Uint8Array;
  clock: Clock;
}

/** Register, inspect and change licences. */
export class LicenceService {
  readonly #deps: LicenceServiceDeps;

  constructor(deps: LicenceServiceDeps) {
    this.#deps = deps;
  }

  #now(): number {
    return Math.floor(this.#deps.clock.now() / 1000);
  }

  /** Registers a licence; returns it and its key (the only time the key is shown). */
  add(input: NewLicence, actor: string): { licence: LicenceView; key: string } {
    return transaction(this.#deps.db, () => {
      const { id, key } = this.#insert(input, actor);
      return { licence: this.#view(id), key };
    });
  }

  #insert(input: NewLicence, actor: string): { id: number; key: string } {
    const customer = input.customer.trim();
    if (customer.length === 0 || customer.length > 200) {
      throw new InvalidInputError("invalid_customer", "Customer name must be 1 to 200 characters");
    }
    const now = this.#now();
    const validFrom = input.validFrom ?? now;
    checkTerms(validFrom, input.expires, input.quota ?? null);
    const key = input.key === undefined ? generateKey() : normalizeKey(input.key);
    const hash = keyHash(this.#deps.secret, key);
    if (this.#deps.licences.byHash(hash)) {
      throw new AppError("conflict", "license_exists", "This licence key is already registered");
    }
    const modes = [...new Set(input.modes ?? CLIENT_MODES)];
    const id = this.#deps.licences.insert({
      key_hash: hash,
      customer,
      valid_from: validFrom,
      expires: input.expires,
      modes: JSON.stringify(modes),
      quota: input.quota ?? null,
      notes: input.notes ?? null,
      created_at: now,
    });
    this.#audit(actor, "licence.add", id, {
      customer,
      validFrom: isoSeconds(validFrom),
      expires: isoSeconds(input.expires),
      quota: input.quota ?? null,
      modes,
      keyGenerated: input.key === undefined,
    });
    bumpGeneration(this.#deps.db, "licences");
    return { id, key };
  }

  /** Every licence, or those that match `filter` now. */
  list(filter: LicenceFilter = {}): LicenceView[] {
    const now = this.#now();
    const text = filter.text?.trim().toLowerCase() ?? "";
    const state = filter.state;
    return this.#deps.licences.all()
      .filter((row) =>
        (text === "" || containsText(row, text)) &&
        (state === undefined || inState(row, state, now))
      )
      .map((row) => this.#toView(row));
  }

  /** One licence by id (`12`) or by key. */
  show(ref: string): LicenceView {
    return this.#toView(this.#resolve(ref));
  }

  /** Revokes a licence by id or key; effective on the next request. */
  revoke(ref: string, actor: string, reason?: string): LicenceView {
    return transaction(this.#deps.db, () => {
      const row = this.#resolve(ref);
      if (row.state === "revoked") {
        throw new AppError("conflict", "license_revoked", `Licence ${row.id} is already revoked`);
      }
      this.#deps.licences.update({ ...row, state: "revoked", revoked_at: this.#now() });
      this.#audit(actor, "licence.revoke", row.id, {
        customer: row.customer,
        reason: reason ?? null,
      });
      bumpGeneration(this.#deps.db, "licences");
      return this.#view(row.id);
    });
  }

  /**
   * Changes a licence's expiry, quota, modes or notes, checked as {@link add} checks them.
   * A revoked licence cannot change (409 `license_revoked`); a change to the same values
   * writes nothing.
   */
  update(ref: string, changes: LicenceChanges, actor: string): LicenceView {
    return transaction(this.#deps.db, () => {
      const row = this.#resolve(ref);
      if (row.state === "revoked") {
        throw new AppError(
          "conflict",
          "license_revoked",
          `Licence ${row.id} is revoked; it cannot be changed`,
        );
      }
      const next = {
        ...row,
        expires: changes.expires ?? row.expires,
        quota: changes.quota === undefined ? row.quota : changes.quota,
        modes: changes.modes === undefined
          ? row.modes
          : JSON.stringify([...new Set(changes.modes)]),
        notes: changes.notes === undefined ? row.notes : changes.notes,
      };
      checkTerms(Number(row.valid_from), next.expires, next.quota);
      const changed: Record<string, { from: unknown; to: unknown }> = {};
      if (next.expires !== row.expires) {
        changed.expires = { from: isoSeconds(Number(row.expires)), to: isoSeconds(next.expires) };
      }
      if (next.quota !== row.quota) changed.quota = { from: row.quota, to: next.quota };
      if (next.modes !== row.modes) {
        changed.modes = { from: JSON.parse(row.modes), to: JSON.parse(next.modes) };
      }
      if (next.notes !== row.notes) changed.notes = { from: row.notes, to: next.notes };
      if (Object.keys(changed).length === 0) return this.#toView(row);
      this.#deps.licences.update(next);
      this.#audit(actor, "licence.update", row.id, { customer: row.customer, changed });
      bumpGeneration(this.#deps.db, "licences");
      return this.#view(row.id);
    });
  }

  /**
   * Registers the renewed key `newKey` (generated when absent) for the same
   * customer, and keeps the old key valid for `graceSeconds` more, so clients
   * can switch over without an outage. The client's participation carries over.
   */
  rotate(
    oldKey: string,
    newKey: string | undefined,
    options: { graceSeconds: number; expires?: number },
    actor: string,
  ): { old: LicenceView; renewed: LicenceView; key: string } {
    return this.#rotate(() => this.#byKey(oldKey), newKey, options, actor);
  }

  /**
   * {@link rotate} for an operator who has the licence's id but not its key (the admin API):
   * the renewed key is generated.
   */
  /** Like {@link rotate}, with the old licence named by id (`12`) or key, as `show` takes it. */
  rotateRef(
    ref: string,
    newKey: string | undefined,
    options: { graceSeconds: number; expires?: number },
    actor: string,
  ): { old: LicenceView; renewed: LicenceView; key: string } {
    return this.#rotate(() => this.#resolve(ref), newKey, options, actor);
  }

  rotateById(
    id: number,
    options: { graceSeconds: number; expires?: number },
    actor: string,
  ): { old: LicenceView; renewed: LicenceView; key: string } {
    return this.#rotate(() => this.#byId(id), undefined, options, actor);
  }

  // `find` runs inside the transaction, so the old licence cannot change between read and write.
  #rotate(
    find: () => LicenceWithParticipation,
    newKey: string | undefined,
    options: { graceSeconds: number; expires?: number },
    actor: string,
  ): { old: LicenceView; renewed: LicenceView; key: string } {
    return transaction(this.#deps.db, () => {
      const old = find();
      if (old.state === "revoked") {
        throw new AppError(
          "conflict",
          "license_revoked",
          `Licence ${old.id} is revoked; it cannot be rotated`,
        );
      }
      if (old.replaced_by !== null) {
        throw new AppError(
          "conflict",
          "license_rotated",
          `Licence ${old.id} was already rotated to licence ${old.replaced_by}`,
        );
      }
      const now = this.#now();
      const { id, key } = this.#insert({
        customer: old.customer,
        expires: options.expires ?? old.expires,
        validFrom: now,
        key: newKey,
        quota: old.quota,
        modes: JSON.parse(old.modes),
        notes: old.notes,
      }, actor);
      const graceUntil = Math.min(old.expires, now + options.graceSeconds);
      this.#deps.licences.update({ ...old, grace_until: graceUntil, replaced_by: id });
      if (old.mode !== null) {
        this.#deps.licences.setParticipation(id, old.mode, old.statement_version, now);
      }
      this.#audit(actor, "licence.rotate", old.id, {
        customer: old.customer,
        renewedLicence: id,
        oldKeyValidUntil: isoSeconds(graceUntil),
      });
      return { old: this.#view(old.id), renewed: this.#view(id), key };
    });
  }

  /** Registers several licences in one transaction: all or none. */
  addMany(inputs: readonly { line: number; licence: NewLicence }[], actor: string): LicenceView[] {
    return transaction(this.#deps.db, () => {
      const seen = new Set<string>();
      return inputs.map(({ line, licence }) => {
        try {
          const key = licence.key === undefined ? undefined : normalizeKey(licence.key);
          if (key !== undefined) {
            if (seen.has(key)) {
              throw new AppError("conflict", "license_exists", "Key appears twice in the file");
            }
            seen.add(key);
          }
          return this.#view(this.#insert({ ...licence, key }, actor).id);
        } catch (err) {
          if (err instanceof AppError) {
            throw new AppError(err.kind, err.code, `Line ${line}: ${err.message}`, {
              ...err.details,
              cause: err,
            });
          }
          throw err;
        }
      });
    });
  }

  /**
   * Publishes `text` as the next KSN Statement version, as `pksn statement load` does, and
   * audits who published it. Returns the new version.
   */
  publishStatement(text: string, actor: string): number {
    const version = publishStatement(this.#deps.db, text, this.#deps.clock.now());
    // publishStatement commits on its own, so the entry follows in a second, one-row write.
    this.#audit(actor, "statement.publish", null, { version });
    return version;
  }

  /** The newest audit entries that match `filter`, newest first. */
  auditLog(limit = 100, filter: AuditFilter = {}): AuditEntry[] {
    return readAudit(this.#deps.db, limit, filter).map((row) => ({
      at: isoSeconds(Number(row.at)),
      actor: row.actor,
      action: row.action,
      licenceId: row.licence_id === null ? null : Number(row.licence_id),
      detail: row.detail === null ? null : JSON.parse(row.detail),
    }));
  }

  #audit(actor: string, action: string, licenceId: number | null, detail: unknown): void {
    appendAudit(this.#deps.db, { at: this.#now(), actor, action, licenceId, detail });
  }

  #resolve(ref: string): LicenceWithParticipation {
    const trimmed = ref.trim().replace(/^#/, "");
    return /^\d+$/.test(trimmed) ? this.#byId(Number(trimmed)) : this.#byKey(ref);
  }

  #byId(id: number): LicenceWithParticipation {
    const row = this.#deps.licences.byId(id);
    if (!row) throw new AppError("not_found", "license_not_found", `No licence with id ${id}`);
    return row;
  }

  #byKey(key: string): LicenceWithParticipation {
    const row = this.#deps.licences.byHash(keyHash(this.#deps.secret, normalizeKey(key)));
    if (!row) {
      throw new AppError(
        "not_found",
        "license_not_found",
        "No licence is registered with this key",
      );
    }
    return row;
  }

  #view(id: number): LicenceView {
    return this.#toView(this.#deps.licences.byId(id)!);
  }

  #toView(row: LicenceWithParticipation): LicenceView {
    const view: LicenceView = {
      id: Number(row.id),
      keyId: toHex(row.key_hash.subarray(0, 4)),
      customer: row.customer,
      status: statusOf(row, this.#now()),
      validFrom: isoSeconds(Number(row.valid_from)),
      expires: isoSeconds(Number(row.expires)),
      modes: JSON.parse(row.modes),
      quota: row.quota === null ? null : Number(row.quota),
      notes: row.notes,
      participation: row.mode === null ? null : {
        mode: row.mode,
        statementVersion: row.statement_version === null ? null : Number(row.statement_version),
      },
      createdAt: isoSeconds(Number(row.created_at)),
    };
    if (row.grace_until !== null) view.graceUntil = isoSeconds(Number(row.grace_until));
    if (row.replaced_by !== null) view.replacedBy = Number(row.replaced_by);
    return view;
  }
}

/** When a licence stops working: its expiry, or the end of a rotation's grace period. */
export function effectiveExpiry(row: { expires: number; grace_until: number | null }): number {
  return row.grace_until === null
    ? Number(row.expires)
    : Math.min(Number(row.expires), Number(row.grace_until));
}

/** A licence's status at `now` (Unix seconds). */
function statusOf(row: LicenceWithParticipation, now: number): LicenceView["status"] {
  if (row.state === "revoked") return "revoked";
  if (now < row.valid_from) return "not-yet-valid";
  return now >= effectiveExpiry(row) ? "expired" : "active";
}

function inState(row: LicenceWithParticipation, state: LicenceState, now: number): boolean {
  const status = statusOf(row, now);
  return state === "expiring"
    ? status === "active" && effectiveExpiry(row) - now <= EXPIRING_SECONDS
    : status === state;
}

function containsText(row: LicenceWithParticipation, lowerText: string): boolean {
  return row.customer.toLowerCase().includes(lowerText) ||
    (row.notes?.toLowerCase().includes(lowerText) ?? false) ||
    String(row.id).includes(lowerText.replace(/^#/, ""));
}

/** The checks a licence's dates and quota pass on every write, new or changed. */
function checkTerms(validFrom: number, expires: number, quota: number | null): void {
  if (expires <= validFrom) {
    throw new InvalidInputError(
      "invalid_date",
      `Licence would expire (${isoSeconds(expires)}) before it becomes valid (${
        isoSeconds(validFrom)
      })`,
    );
  }
  if (quota !== null && !(quota >= 1)) {
    throw new InvalidInputError("invalid_quota", "Quota must be at least 1 request per minute");
  }
}
