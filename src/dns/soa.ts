/**
 * The zones' SOA and NS records, and the RPZ zone's serial: the mirror version, so a resolver
 * picks up every sync; a change made on this node between syncs (an override, an import) moves
 * it one ahead, and it never goes back, across restarts too.
 */
import type { DatabaseSync } from "../store/mod.ts";
import { getSetting, setSetting } from "../store/mod.ts";

/** A resource record as the DNS message library writes it. */
export interface Rr {
  name: string;
  type: string;
  ttl: number;
  class: "IN";
  // deno-lint-ignore no-explicit-any
  data: any;
}

/** The name server every zone names: the node answers for itself, and no one is delegated to. */
export const NS_NAME = "localhost";
const HOSTMASTER = "hostmaster.localhost";
// Secondaries check for a new serial this often (no NOTIFY is sent); a transfer that fails is
// retried after RETRY; a copy not refreshed for EXPIRE is dropped, unblocking its names.
const REFRESH = 300;
const RETRY = 60;
const EXPIRE = 604_800;

/** The SOA record of `zone` at `serial`; `minimum` is the TTL of negative answers. */
export function soaRecord(zone: string, serial: number, minimum: number): Rr {
  return {
    name: zone,
    type: "SOA",
    ttl: minimum,
    class: "IN",
    data: {
      mname: NS_NAME,
      rname: HOSTMASTER,
      serial: serial >>> 0,
      refresh: REFRESH,
      retry: RETRY,
      expire: EXPIRE,
      minimum,
    },
  };
}

/** The NS record of `zone`. */
export function nsRecord(zone: string, ttl: number): Rr {
  return { name: zone, type: "NS", ttl, class: "IN", data: NS_NAME };
}

/** What an RPZ zone held when it was last given a serial. */
export interface PublishedZone {
  serial: number;
  /** Identifies the zone's content: its name, options and records. */
  digest: string;
}

const SETTING = "dns.rpz.published";

/** The zone last given a serial on this database, if any. */
export function readPublished(db: DatabaseSync): PublishedZone | undefined {
  const text = getSetting(db, SETTING);
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text);
    if (Number.isInteger(value?.serial) && typeof value?.digest === "string") return value;
  } catch {
    // A damaged value is as good as none: the next serial is the mirror version.
  }
  return undefined;
}

/** Records the zone just given a serial. */
export function writePublished(db: DatabaseSync, zone: PublishedZone): void {
  setSetting(db, SETTING, JSON.stringify(zone));
}

/**
 * The serial for a zone of `digest` at mirror `version`: the published serial when the content
 * is the same (or the version, if that is ahead), else one past it (or the version, if ahead).
 */
export function nextSerial(
  published: PublishedZone | undefined,
  version: number,
  digest: string,
): number {
  if (published === undefined) return Math.max(version, 1);
  return Math.max(version, published.serial + (published.digest === digest ? 0 : 1));
}

/**
 * An order-independent digest of a zone's records, kept up to date as records come and go, so
 * that a restart can tell whether the zone changed.
 */
export class ZoneDigest {
  #count = 0;
  #sum = 0;
  readonly #prefix: string;

  constructor(zone: string, ips: boolean) {
    this.#prefix = `${zone.toLowerCase()} ${ips ? "ips" : "domains"}`;
  }

  /** Counts a record in (`sign` 1) or out (`sign` -1). */
  update(key: Uint8Array, action: number, sign: 1 | -1): void {
    let h = 0x811c9dc5 ^ action;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i], 0x01000193);
    this.#sum = (this.#sum + sign * (h >>> 0)) >>> 0;
    this.#count += sign;
  }

  /** The digest as text. */
  get value(): string {
    return `${this.#prefix} ${this.#count} ${this.#sum.toString(16)}`;
  }
}
