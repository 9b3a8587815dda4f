/**
 * Client authentication by licence key, on every `/v1` look-up. Verified keys
 * are cached in memory (the HMAC and the database are only touched for a key
 * not seen since the last licence change), so checking a key costs a map
 * look-up and a few comparisons.
 */
import { AppError, type Clock, quote } from "../core/mod.ts";
import {
  appendAudit,
  bumpGeneration,
  type DatabaseSync,
  type LicenceRepository,
  type LicenceWithParticipation,
  transaction,
} from "../store/mod.ts";
import { isoSeconds } from "./dates.ts";
import { KeyCache } from "./_key_cache.ts";
import { QuotaWindows } from "./_quota.ts";
import { type LicenceUsage, UsageCounts } from "./_usage.ts";
import { readKey, unauthorized } from "./_key_header.ts";
import { keyOrNull, MAX_KEY_LENGTH } from "./keys.ts";
import { CLIENT_MODES, type ClientMode } from "./modes.ts";
import { effectiveExpiry } from "./licence_service.ts";
import type { NodeParticipation } from "./participation.ts";
import { keyHash } from "./secret.ts";

/** The licence a request was made with. */
export interface ClientLicence {
  readonly id: number;
  readonly customer: string;
  readonly mode: ClientMode | null;
  readonly statementVersion: number | null;
  readonly modes: readonly ClientMode[];
}

interface CacheEntry {
  row: LicenceWithParticipation | null;
  licence: ClientLicence | null;
  end: number;
}

const RENEW_HINT = "the new key's details must be submitted to the service provider";

/** What {@link LicenceAuthenticator} needs. */
export interface AuthDeps {
  db: DatabaseSync;
  licences: LicenceRepository;
  secret: Uint8Array;
  clock: Clock;
  participation: NodeParticipation;
}

/** Checks licence keys, quotas and participation. */
export class LicenceAuthenticator {
  readonly #deps: AuthDeps;
  readonly #keys = new KeyCache<CacheEntry>(entryBytes);
  // Kept apart from the key cache, so a licence change elsewhere does not reset quotas.
  readonly #quotas = new QuotaWindows();
  readonly #usage = new UsageCounts();

  constructor(deps: AuthDeps) {
    this.#deps = deps;
  }

  /** Forgets every cached key; call when licences change. */
  invalidate(): void {
    this.#keys.clear();
  }

  /** Entries and estimated bytes held by the key caches (verified and unknown keys). */
  get cacheSize(): { keys: number; unknownKeys: number; bytes: number } {
    return this.#keys.size;
  }

  /**
   * Authenticates a request from its headers: `Authorization: Bearer KEY` or
   * `X-License-Key: KEY`. Throws 401 (`license_missing`, `license_unknown`,
   * `license_expired`, `license_revoked`, `license_not_yet_valid`) or 429
   * `rate_limited`.
   */
  authenticate(headers: Headers, options: { quota?: boolean } = {}): ClientLicence {
    const raw = readKey(headers);
    // Clients send the normal form (upper case); anything else is normalised first.
    let entry = this.#keys.get(raw) ?? undefined;
    if (entry === undefined) {
      const key = keyOrNull(raw);
      if (key === null) {
        // Refused before any hashing, and never cached: a flood of junk keys costs nothing.
        throw unauthorized(
          "license_unknown",
          `Unknown licence key: not a licence key (${raw.length} characters; expected 8 to ` +
            `${MAX_KEY_LENGTH} letters, digits and inner dashes)`,
        );
      }
      entry = this.#keys.get(key) ?? this.#load(key);
    }
    const row = entry.row;
    if (row === null) {
      throw unauthorized(
        "license_unknown",
        `Unknown licence key: the service provider has not registered it; if your licence was renewed, ${RENEW_HINT}`,
      );
    }
    if (row.state === "revoked") {
      throw unauthorized("license_revoked", "Licence key has been revoked by the service provider");
    }
    const nowMs = this.#deps.clock.now();
    const now = nowMs / 1000;
    if (now < row.valid_from) {
      throw unauthorized(
        "license_not_yet_valid",
        `Licence key is valid from ${isoSeconds(Number(row.valid_from))}`,
      );
    }
    if (now >= entry.end) {
      throw unauthorized(
        "license_expired",
        `Licence key expired on ${isoSeconds(entry.end)}; ${RENEW_HINT}`,
      );
    }
    const id = entry.licence!.id;
    // Participation and the node summary are not look-ups: they do not use the quota.
    if (row.quota !== null && options.quota !== false) {
      this.#quotas.count(id, Number(row.quota), nowMs);
    }
    // Counted once the key is good, so junk keys cannot grow the map past the licences there are.
    this.#usage.count(id, nowMs);
    return entry.licence!;
  }

  /** Requests licence `licenceId` made since this node started, and when it was last seen. */
  usage(licenceId: number): LicenceUsage | null {
    return this.#usage.of(licenceId);
  }

  /** Like {@link authenticate}, and the client must have accepted the current statement. */
  authenticateForLookup(headers: Headers): ClientLicence {
    const licence = this.authenticate(headers);
    if (licence.mode === null || licence.mode === "none") {
      throw new AppError(
        "forbidden",
        "participation_required",
        "Choose a participation mode first: read GET /v1/statement, then POST /v1/participation " +
          'with {"mode": ..., "statementVersion": N}',
      );
    }
    const current = this.#deps.participation.statementVersion;
    if (licence.statementVersion !== current) {
      throw new AppError(
        "forbidden",
        "participation_required",
        `KSN Statement version ${current} has not been accepted: read GET /v1/statement, then ` +
          `POST /v1/participation with "statementVersion": ${current}`,
      );
    }
    return licence;
  }

  /**
   * Like {@link authenticate}, for data a client sends for the node to keep and
   * forward (`what`: statistics or samples): only from clients that chose
   * "with-statistics" (403 `statistics_not_enabled` / `samples_not_enabled`) and
   * accepted the current statement (403 `participation_required`).
   */
  authenticateForStatistics(headers: Headers, what: "statistics" | "samples"): ClientLicence {
    const licence = this.authenticate(headers);
    if (licence.mode !== "with-statistics") {
      throw new AppError(
        "forbidden",
        `${what}_not_enabled`,
        `${what === "statistics" ? "Statistics are" : "Samples are"} accepted only in ` +
          `participation mode "with-statistics"; this licence's mode is ${
            licence.mode === null ? "not chosen" : quote(licence.mode)
          }: POST /v1/participation to change it`,
      );
    }
    const current = this.#deps.participation.statementVersion;
    if (licence.statementVersion !== current) {
      throw new AppError(
        "forbidden",
        "participation_required",
        `KSN Statement version ${current} has not been accepted: read GET /v1/statement, then ` +
          "POST /v1/participation",
      );
    }
    return licence;
  }

  /**
   * Records the client's participation choice. Any mode but "none" requires the
   * current statement version (409 `statement_not_accepted` otherwise).
   */
  choose(
    licence: ClientLicence,
    mode: ClientMode,
    statementVersion: number | undefined,
  ): ClientLicence {
    // Opting out is always possible, whatever modes the provider allowed.
    if (mode !== "none" && !licence.modes.includes(mode)) {
      throw new AppError(
        "forbidden",
        "mode_not_allowed",
        `Participation mode ${quote(mode)} is not allowed for this licence: allowed ${
          licence.modes.join(", ")
        }`,
      );
    }
    // Another process may have published a newer statement than this node has read.
    if (
      statementVersion !== undefined && statementVersion > this.#deps.participation.statementVersion
    ) {
      this.#deps.participation.reload();
    }
    const current = this.#deps.participation.statementVersion;
    if (mode !== "none" && statementVersion !== current) {
      throw new AppError(
        "conflict",
        "statement_not_accepted",
        `Participation mode ${
          quote(mode)
        } requires accepting the current KSN Statement, version ${current}` +
          (statementVersion === undefined ? "" : `, not ${statementVersion}`),
      );
    }
    const { db, licences, clock } = this.#deps;
    const at = Math.floor(clock.now() / 1000);
    const accepted = mode === "none" ? null : current;
    transaction(db, () => {
      licences.setParticipation(licence.id, mode, accepted, at);
      // During a rotation's grace period clients still use the old key; the
      // renewed licence must carry what they chose.
      const renewed = licences.byId(licence.id)?.replaced_by;
      if (renewed !== null && renewed !== undefined) {
        licences.setParticipation(Number(renewed), mode, accepted, at);
      }
      appendAudit(db, {
        at,
        actor: `client:${licence.id}`,
        action: "participation.choose",
        licenceId: licence.id,
        detail: { mode, statementVersion: accepted },
      });
      bumpGeneration(db, "licences");
    });
    // Takes effect at once in this process; other processes see the generation bump.
    this.invalidate();
    return { ...licence, mode, statementVersion: accepted };
  }

  /**
   * Reads a key in normal form that the cache does not know (or knows to be unregistered)
   * from the database, and caches what it found.
   */
  #load(key: string): CacheEntry {
    if (this.#keys.get(key) === null) return UNKNOWN;
    const row = this.#deps.licences.byHash(keyHash(this.#deps.secret, key)) ?? null;
    if (row === null) {
      this.#keys.setUnknown(key);
      return UNKNOWN;
    }
    const entry: CacheEntry = {
      row,
      licence: {
        id: Number(row.id),
        customer: row.customer,
        mode: row.mode as ClientMode | null,
        statementVersion: row.statement_version === null ? null : Number(row.statement_version),
        modes: JSON.parse(row.modes).filter((m: string) =>
          (CLIENT_MODES as readonly string[]).includes(m)
        ),
      },
      end: effectiveExpiry(row),
    };
    this.#keys.setKnown(key, entry);
    return entry;
  }
}

const UNKNOWN: CacheEntry = Object.freeze({ row: null, licence: null, end: 0 });

/** A cached entry's size, estimated: its strings at two bytes a character, and the objects. */
function entryBytes(key: string, entry: CacheEntry): number {
  const row = entry.row!;
  return 2 * (key.length + row.customer.length + row.modes.length + (row.notes?.length ?? 0)) +
    1024;
}
