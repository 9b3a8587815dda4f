/**
 * The RPZ zone a running node serves by zone transfer: built from the database in chunks, then
 * brought up to date by diffing each chunk against its journal whenever the entries change, so
 * an IXFR can send what changed since any of the last {@link HISTORY} serials.
 */
import type { Logger } from "../core/mod.ts";
import {
  type DatabaseSync,
  type JournalRow,
  readTransactionAsync,
  RpzJournal,
  WinningRows,
} from "../store/mod.ts";
import { actionOf, RPZ_VERDICTS, rpzLeads } from "./rpz_names.ts";
import { nextSerial, readPublished, writePublished, ZoneDigest } from "./soa.ts";

/** Serials an IXFR may start from; an older one gets the whole zone. */
const HISTORY = 64;

/** What {@link RpzZone} needs. */
export interface RpzZoneDeps {
  /** A connection of the zone's own: its journal is a temporary table of that connection. */
  db: DatabaseSync;
  /** The connection the published serial is stored through (the node's). */
  settings: DatabaseSync;
  zone: string;
  ips: boolean;
  /** The synced mirror's version now. */
  mirrorVersion: () => number;
  log: Logger;
}

/** A record of the zone: a listed key and its action. */
export type ZoneRecord = Pick<JournalRow, "key" | "action">;

/** The journal-backed zone; {@link RpzZone.open} builds its first version. */
export class RpzZone {
  readonly zone: string;
  readonly ips: boolean;
  readonly #deps: RpzZoneDeps;
  readonly #journal: RpzJournal;
  readonly #rows: WinningRows;
  readonly #digest: ZoneDigest;
  readonly #leads: number[];
  /** Published serials, oldest first; the last is the current one. */
  #serials: number[] = [];
  #building: Promise<boolean> | null = null;
  #again = false;
  #transfers = 0;

  private constructor(deps: RpzZoneDeps) {
    this.#deps = deps;
    this.zone = deps.zone;
    this.ips = deps.ips;
    this.#journal = new RpzJournal(deps.db);
    this.#rows = new WinningRows(deps.db, RPZ_VERDICTS);
    this.#digest = new ZoneDigest(deps.zone, deps.ips);
    this.#leads = rpzLeads(deps.ips);
  }

  /** Builds the zone from the database and gives it its serial. */
  static async open(deps: RpzZoneDeps): Promise<RpzZone> {
    const zone = new RpzZone(deps);
    await zone.refresh();
    return zone;
  }

  /** The serial of the zone as now served. */
  get serial(): number {
    return this.#serials[this.#serials.length - 1];
  }

  /** Whether an IXFR from `serial` can be answered with differences. */
  hasHistoryFrom(serial: number): boolean {
    return this.#serials.length > 0 && serial >= this.#serials[0] && serial <= this.serial;
  }

  /**
   * Brings the zone up to date with the database; resolves to whether the serial moved. Calls
   * while one runs are folded into one more run after it.
   */
  refresh(): Promise<boolean> {
    if (this.#building !== null) {
      this.#again = true;
      return this.#building;
    }
    const run = async (): Promise<boolean> => {
      let moved = false;
      try {
        do {
          this.#again = false;
          moved = await this.#build() || moved;
        } while (this.#again);
      } finally {
        this.#building = null;
      }
      return moved;
    };
    this.#building = run();
    return this.#building;
  }

  async #build(): Promise<boolean> {
    const started = performance.now();
    const version = this.#deps.mirrorVersion();
    const first = this.#serials.length === 0;
    // Records of the first build are there from serial 0: any served serial includes them.
    const candidate = first ? 0 : Math.max(version, this.serial + 1);
    let changes = 0;
    await readTransactionAsync(this.#deps.db, async () => {
      for (const lead of this.#leads) {
        for (let second = 0; second < 256; second++) {
          changes += this.#diffChunk(lead, second, candidate);
          if (second % 16 === 15) await new Promise((resolve) => setTimeout(resolve, 0));
        }
      }
    });
    const digest = this.#digest.value;
    let serial: number;
    if (first) {
      serial = nextSerial(readPublished(this.#deps.settings), version, digest);
    } else if (changes > 0) {
      serial = candidate;
    } else if (version > this.serial) {
      serial = version; // a sync that changed nothing here still shows in the serial
    } else {
      return false;
    }
    writePublished(this.#deps.settings, { serial, digest });
    this.#serials.push(serial);
    if (this.#serials.length > HISTORY) {
      this.#serials.shift();
      // A transfer under way reads the zone at its own serial: keep its rows until it ends.
      if (this.#transfers === 0) this.#journal.prune(this.#serials[0]);
    }
    this.#deps.log.info("Built the RPZ zone", {
      zone: this.zone,
      serial,
      changes,
      millis: Math.round(performance.now() - started),
    });
    return true;
  }

  /** Applies one chunk's differences to the journal at `serial`; returns how many records changed. */
  #diffChunk(lead: number, second: number, serial: number): number {
    const now = this.#rows.chunk(lead, second);
    const had = this.#journal.current(lead, second);
    let changes = 0;
    let i = 0;
    let j = 0;
    while (i < now.length || j < had.length) {
      const order = i >= now.length
        ? 1
        : j >= had.length
        ? -1
        : compareBytes(now[i].key, had[j].key);
      if (order < 0) {
        const action = actionOf(now[i]);
        this.#journal.add(now[i].key, action, serial);
        this.#digest.update(now[i].key, action, 1);
        changes++;
        i++;
      } else if (order > 0) {
        this.#journal.remove(had[j].key, serial);
        this.#digest.update(had[j].key, had[j].action, -1);
        changes++;
        j++;
      } else {
        const action = actionOf(now[i]);
        if (action !== had[j].action) {
          this.#journal.remove(had[j].key, serial);
          this.#digest.update(had[j].key, had[j].action, -1);
          this.#journal.add(now[i].key, action, serial);
          this.#digest.update(now[i].key, action, 1);
          changes++;
        }
        i++;
        j++;
      }
    }
    return changes;
  }

  /** The zone's records at `serial` (a served one), chunk by chunk. */
  async *records(serial: number): AsyncGenerator<ZoneRecord[]> {
    this.#transfers++;
    try {
      for (const lead of this.#leads) {
        for (let second = 0; second < 256; second++) {
          const rows = this.#journal.at(lead, second, serial);
          if (rows.length > 0) yield rows;
        }
      }
    } finally {
      this.#transfers--;
    }
  }

  /**
   * What changed from serial `from` to `to` (both served, `from` within the history), as the
   * records to delete and then the records to add, chunk by chunk.
   */
  async *changes(
    from: number,
    to: number,
    which: "deleted" | "added",
  ): AsyncGenerator<ZoneRecord[]> {
    this.#transfers++;
    try {
      const present = (r: JournalRow, at: number): boolean =>
        r.added <= at && (r.removed === null || r.removed > at);
      for (const lead of this.#leads) {
        for (let second = 0; second < 256; second++) {
          const rows = this.#journal.changedAfter(lead, second, from).filter((r) =>
            which === "deleted"
              ? present(r, from) && !present(r, to)
              : !present(r, from) && present(r, to)
          );
          if (rows.length > 0) yield rows;
        }
      }
    } finally {
      this.#transfers--;
    }
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
