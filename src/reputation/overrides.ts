/**
 * The operator's local overrides: listing, adding (an add of the same object replaces it),
 * editing, removing, importing a list, and removing those whose expiry passed. Every write is
 * one transaction with its audit entry and a bump of the `entries` counter, so another process
 * notices; the serving node rebuilds its index after each write so the next look-up sees it.
 */
import { AppError, type Clock, isoSeconds, quote } from "../core/mod.ts";
import {
  appendAudit,
  bumpGeneration,
  type DatabaseSync,
  type OverrideRow,
  OverrideTable,
  transaction,
} from "../store/mod.ts";
import { decodeKey, TYPE_BYTE } from "./keys.ts";
import {
  expirySeconds,
  type OverrideAdd,
  type OverrideEdit,
  overrideKey,
  overrideListKeys,
  type OverrideListOptions,
  type OverrideTarget,
} from "./override_rules.ts";
import { type ObjectType, type Verdict, VERDICT_CODE, VERDICTS } from "./types.ts";

/** One local override as the admin API answers it; notes are null where none were given. */
export interface OverrideView {
  type: ObjectType;
  value: string;
  verdict: Verdict;
  threat?: string;
  categories?: string[];
  source: string;
  reason: string | null;
  createdBy: string | null;
  createdAt: string | null;
  expiresAt: string | null;
}

/** Which overrides {@link LocalOverrides.list} answers. */
export interface OverrideFilter {
  type?: ObjectType;
  /** Text the value or the reason contains, any case. */
  q?: string;
  limit: number;
}

/** What {@link LocalOverrides} needs. */
export interface LocalOverridesDeps {
  db: DatabaseSync;
  clock: Clock;
}

/** The local overrides of one database. */
export class LocalOverrides {
  readonly #db: DatabaseSync;
  readonly #clock: Clock;
  readonly #table: OverrideTable;

  constructor(deps: LocalOverridesDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#table = new OverrideTable(deps.db);
  }

  /** The overrides that match, newest first (bare imports last), and how many match in all. */
  list(filter: OverrideFilter): { overrides: OverrideView[]; total: number } {
    const text = filter.q?.toLowerCase() ?? "";
    const overrides: OverrideView[] = [];
    let total = 0;
    const lead = filter.type === undefined ? undefined : TYPE_BYTE[filter.type];
    for (const row of this.#table.list(lead)) {
      const { type, value } = decodeKey(row.key);
      if (
        text !== "" && !value.toLowerCase().includes(text) &&
        !(row.reason ?? "").toLowerCase().includes(text)
      ) continue;
      if (++total <= filter.limit) overrides.push(view(row, type, value));
    }
    return { overrides, total };
  }

  /** Stores an override, replacing one of the same object; says whether it replaced one. */
  add(input: OverrideAdd, actor: string): { override: OverrideView; replaced: boolean } {
    const key = overrideKey(input.type, input.value);
    const row: OverrideRow = {
      key,
      verdict: VERDICT_CODE[input.verdict],
      threat: null,
      categories: null,
      first_seen: null,
      last_seen: null,
      ttl: null,
      source: actor,
      reason: input.reason,
      created_by: actor,
      created_at: this.#seconds(),
      expires_at: input.expires === undefined ? null : expirySeconds(input.expires, this.#now()),
    };
    const replaced = transaction(this.#db, () => {
      const old = this.#table.get(key) !== undefined;
      this.#table.put(row);
      this.#write(actor, "override.add", row, { replaced: old });
      return old;
    });
    return { override: viewOf(row), replaced };
  }

  /**
   * Changes an override's verdict, reason or expiry; throws `override_not_found` when the
   * object has none. A new verdict makes the actor its source, and "clean" drops the threat.
   */
  edit(input: OverrideEdit, actor: string): OverrideView {
    const key = overrideKey(input.type, input.value);
    const expires = input.expires === undefined
      ? undefined
      : input.expires === null
      ? null
      : expirySeconds(input.expires, this.#now());
    return transaction(this.#db, () => {
      const old = this.#table.get(key) ?? notFound(input);
      const row: OverrideRow = { ...old, key };
      if (input.verdict !== undefined) {
        row.verdict = VERDICT_CODE[input.verdict];
        row.source = actor;
        if (input.verdict === "clean") row.threat = row.categories = null;
      }
      if (input.reason !== undefined) row.reason = input.reason;
      if (expires !== undefined) row.expires_at = expires;
      this.#table.put(row);
      this.#write(actor, "override.edit", row, {
        changed: Object.keys(input).filter((k) => k !== "type" && k !== "value"),
      });
      return viewOf(row);
    });
  }

  /** Removes an override; throws `override_not_found` when the object has none. */
  remove(input: OverrideTarget, actor: string): void {
    const key = overrideKey(input.type, input.value);
    transaction(this.#db, () => {
      const old = this.#table.get(key) ?? notFound(input);
      this.#table.remove(key);
      this.#write(actor, "override.remove", { ...old, key }, {});
    });
  }

  /**
   * Stores an override for every value of a list (one value a line), all or none; returns
   * how many objects it holds. Values already overridden are replaced.
   */
  importList(text: string, options: OverrideListOptions, actor: string): number {
    const keys = overrideListKeys(text, options.type);
    const expiresAt = options.expires === undefined
      ? null
      : expirySeconds(options.expires, this.#now());
    const createdAt = this.#seconds();
    const verdict = VERDICT_CODE[options.verdict];
    transaction(this.#db, () => {
      for (const key of keys) {
        this.#table.put({
          key,
          verdict,
          threat: null,
          categories: null,
          first_seen: null,
          last_seen: null,
          ttl: null,
          source: actor,
          reason: options.reason,
          created_by: actor,
          created_at: createdAt,
          expires_at: expiresAt,
        });
      }
      appendAudit(this.#db, {
        at: createdAt,
        actor,
        action: "override.import",
        detail: { type: options.type, verdict: options.verdict, count: keys.length },
      });
      bumpGeneration(this.#db, "entries");
    });
    return keys.length;
  }

  /**
   * Removes, in one transaction, the overrides whose expiry is at or before `now`
   * (milliseconds since the epoch), with their notes; returns how many it removed.
   */
  expireOverrides(now: number): number {
    const seconds = Math.floor(now / 1000);
    return transaction(this.#db, () => {
      const removed = this.#table.expire(seconds);
      if (removed > 0) {
        appendAudit(this.#db, {
          at: seconds,
          actor: "system",
          action: "override.expire",
          detail: { count: removed },
        });
        bumpGeneration(this.#db, "entries");
      }
      return removed;
    });
  }

  #write(actor: string, action: string, row: OverrideRow, extra: Record<string, unknown>): void {
    const { type, value } = decodeKey(row.key);
    appendAudit(this.#db, {
      at: this.#seconds(),
      actor,
      action,
      detail: {
        type,
        value,
        verdict: VERDICTS[row.verdict],
        reason: row.reason,
        expiresAt: row.expires_at === null ? null : isoSeconds(row.expires_at),
        ...extra,
      },
    });
    bumpGeneration(this.#db, "entries");
  }

  #now(): number {
    return this.#clock.now();
  }

  #seconds(): number {
    return Math.floor(this.#clock.now() / 1000);
  }
}

/**
 * Removes the overrides of `db` whose expiry is at or before `now` (milliseconds since the
 * epoch), in one transaction that bumps the `entries` counter; returns how many. A serving
 * node's reload check then rebuilds its index; call `Node.refreshIndex()` to do it at once.
 */
export function expireOverrides(db: DatabaseSync, now: number): number {
  return new LocalOverrides({ db, clock: { now: () => now } }).expireOverrides(now);
}

function notFound(target: OverrideTarget): never {
  throw new AppError(
    "not_found",
    "override_not_found",
    `No local override of ${target.type} ${quote(target.value)}`,
  );
}

function viewOf(row: OverrideRow): OverrideView {
  const { type, value } = decodeKey(row.key);
  return view(row, type, value);
}

function view(row: OverrideRow, type: ObjectType, value: string): OverrideView {
  // Field by field in the documented order, so the JSON reads the same way every time.
  const out = { type, value, verdict: VERDICTS[row.verdict] ?? "unknown" } as OverrideView;
  if (row.threat !== null) out.threat = row.threat;
  if (row.categories !== null) out.categories = JSON.parse(row.categories);
  out.source = row.source;
  out.reason = row.reason;
  out.createdBy = row.created_by;
  out.createdAt = row.created_at === null ? null : isoSeconds(row.created_at);
  out.expiresAt = row.expires_at === null ? null : isoSeconds(row.expires_at);
  return out;
}
