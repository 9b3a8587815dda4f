/**
 * Archive retention: archives older than `days` go, then the oldest ones until
 * all of them together fit in `bytes`. Only archives are removed; the day being
 * written is never touched.
 */
import { archiveDates, archiveDir, archiveFile, syncDir } from "./layout.ts";

/** The limits, as `stats.retentionDays` and `stats.retentionBytes` give them. */
export interface RetentionLimits {
  days: number;
  bytes: number;
}

/** An archive retention removed, and why. */
export interface Removed {
  date: string;
  bytes: number;
  reason: "days" | "bytes";
}

const DAY_MS = 86_400_000;

/** Removes what the limits do not keep, as of the UTC date `today`; returns what went. */
export async function applyRetention(
  dir: string,
  today: string,
  limits: RetentionLimits,
): Promise<Removed[]> {
  const oldestKept = new Date(Date.parse(`${today}T00:00:00Z`) - limits.days * DAY_MS)
    .toISOString().slice(0, 10);
  const archives: { date: string; bytes: number }[] = [];
  for (const date of await archiveDates(dir)) {
    archives.push({ date, bytes: (await Deno.stat(archiveFile(dir, date))).size });
  }
  const removed: Removed[] = [];
  let total = archives.reduce((n, a) => n + a.bytes, 0);
  for (const archive of archives) {
    const reason = archive.date < oldestKept ? "days" : total > limits.bytes ? "bytes" : null;
    if (reason === null) break;
    await Deno.remove(archiveFile(dir, archive.date));
    total -= archive.bytes;
    removed.push({ ...archive, reason });
  }
  if (removed.length > 0) await syncDir(archiveDir(dir));
  return removed;
}
