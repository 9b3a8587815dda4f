/**
 * The RPZ zone as a master file, for resolvers that load it from disk (`pksn rpz export`). It is
 * written straight from the database in key-range chunks, so its size is bounded by the disk
 * only; the serial, known only once every record is counted, is written into room left for it.
 */
import { readTransactionAsync, WinningRows } from "../store/mod.ts";
import type { DatabaseSync } from "../store/mod.ts";
import { ACTION_TARGET, actionOf, ownerNames, RPZ_VERDICTS, rpzLeads } from "./rpz_names.ts";
import { nextSerial, NS_NAME, readPublished, ZoneDigest } from "./soa.ts";

/** What {@link writeRpzFile} needs. */
export interface RpzFileOptions {
  zone: string;
  ips: boolean;
  /** TTL of the zone's records. */
  ttl: number;
  /** The synced mirror's version. */
  version: number;
}

/** What was written. */
export interface RpzFileReport {
  serial: number;
  /** Listed keys written (a domain gives two records: the name and its wildcard). */
  blocked: number;
  passed: number;
  /** Keys whose owner name would not fit in DNS under this zone name. */
  skipped: number;
}

const SERIAL_ROOM = 10; // 2^32 - 1 has ten digits

/** Writes the zone to the open file `out` (at its start) and returns what it holds. */
export async function writeRpzFile(
  db: DatabaseSync,
  out: Deno.FsFile,
  options: RpzFileOptions,
): Promise<RpzFileReport> {
  const encoder = new TextEncoder();
  const zone = options.zone;
  const head = `; RPZ zone of pksn: malicious and phishing ${
    options.ips ? "domains and IP networks" : "domains"
  }, and local allow-list overrides\n$TTL ${options.ttl}\n${zone}. SOA ${NS_NAME}. hostmaster.localhost. ( `;
  const serialAt = encoder.encode(head).length;
  const tail = ` 300 60 604800 ${options.ttl} )\n${zone}. NS ${NS_NAME}.\n`;
  await writeAll(out, encoder.encode(head + " ".repeat(SERIAL_ROOM) + tail));
  const report: RpzFileReport = { serial: 0, blocked: 0, passed: 0, skipped: 0 };
  const digest = new ZoneDigest(zone, options.ips);
  const rows = new WinningRows(db, RPZ_VERDICTS);
  // One read transaction: the file shows one state of the database.
  const published = await readTransactionAsync(db, async () => {
    for (const lead of rpzLeads(options.ips)) {
      for (let second = 0; second < 256; second++) {
        let text = "";
        for (const row of rows.chunk(lead, second)) {
          const action = actionOf(row);
          // Every listed key counts, written or not, as the served zone counts them.
          digest.update(row.key, action, 1);
          const names = ownerNames(row.key, zone);
          if (names.length === 0) {
            report.skipped++;
            continue;
          }
          if (action === 0) report.blocked++;
          else report.passed++;
          for (const name of names) text += `${name}. CNAME ${ACTION_TARGET[action]}\n`;
        }
        if (text !== "") await writeAll(out, encoder.encode(text));
      }
    }
    return readPublished(db);
  });
  report.serial = nextSerial(published, options.version, digest.value);
  await out.seek(serialAt, Deno.SeekMode.Start);
  await writeAll(out, encoder.encode(String(report.serial).padEnd(SERIAL_ROOM)));
  return report;
}

async function writeAll(out: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await out.write(bytes.subarray(done));
}
