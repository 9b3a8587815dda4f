/**
 * The daily NDJSON files: appending accepted records durably, and repairing a
 * torn last line after a crash. Writes go through one queue, so concurrent
 * batches never interleave their lines; every batch waiting while a write and
 * its `fdatasync` run is written with the next one (group commit), which keeps
 * the cost of durability per batch small under load.
 */
import { type Clock, quote, StoreError } from "../core/mod.ts";
import { dayFile, dayFileDates, exists, syncDir, utcDate } from "./layout.ts";
import type { StatsRecord } from "./record.ts";

/** What one appended batch became: its day, its records (stamped) and their bytes. */
export interface Appended {
  date: string;
  records: StatsRecord[];
  ndjson: Uint8Array;
}

interface Pending {
  records: StatsRecord[];
  resolve(value: Appended): void;
  reject(err: unknown): void;
}

interface OpenDay {
  file: Deno.FsFile;
  size: number;
}

const NEWLINE = 0x0a;
const encoder = new TextEncoder();

/** Appends records to the current UTC day's file; one open handle per day. */
export class DailyFiles {
  readonly dir: string;
  readonly #clock: Clock;
  readonly #open = new Map<string, OpenDay>();
  #queue: Pending[] = [];
  #flushQueued = false;
  #tail: Promise<unknown> = Promise.resolve();
  // Days before this one have been archived: a late write must not reopen them.
  #firstOpenDate = "";
  #closed = false;

  constructor(dir: string, clock: Clock) {
    this.dir = dir;
    this.#clock = clock;
  }

  /**
   * Stamps `receivedAt` on the records, appends them as NDJSON lines to the
   * day's file and resolves once they are on disk (`fdatasync`).
   */
  append(records: StatsRecord[]): Promise<Appended> {
    if (this.#closed) return Promise.reject(new StoreError("Statistics files are closed"));
    const done = new Promise<Appended>((resolve, reject) => {
      this.#queue.push({ records, resolve, reject });
    });
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      this.exclusive(() => {
        this.#flushQueued = false;
        return this.#flush(this.#queue.splice(0));
      });
    }
    return done;
  }

  /** Runs `fn` with no write in progress (rollover uses it to pack closed days). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Closes the handles of days before `date` and keeps later writes out of them. */
  seal(date: string): void {
    if (date > this.#firstOpenDate) this.#firstOpenDate = date;
    for (const [day, open] of this.#open) {
      if (day < date) {
        open.file.close();
        this.#open.delete(day);
      }
    }
  }

  /** Waits for queued writes, then closes every handle. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.exclusive(() => Promise.resolve());
    for (const open of this.#open.values()) open.file.close();
    this.#open.clear();
  }

  async #flush(batch: Pending[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.#flushOrThrow(batch);
    } catch (err) {
      for (const pending of batch) pending.reject(err);
    }
  }

  async #flushOrThrow(batch: Pending[]): Promise<void> {
    const now = this.#clock.now();
    const today = utcDate(now);
    const date = today < this.#firstOpenDate ? this.#firstOpenDate : today;
    const receivedAt = new Date(now).toISOString();
    // Encoded record by record into one buffer: no batch-sized string to build and flatten.
    let bytes = new Uint8Array(64 * 1024);
    let at = 0;
    const ends: number[] = [];
    for (const { records } of batch) {
      for (const record of records) {
        record.receivedAt = receivedAt;
        const line = JSON.stringify(record);
        if (at + line.length * 3 + 1 > bytes.length) {
          const grown = new Uint8Array(Math.max(bytes.length * 2, at + line.length * 3 + 1));
          grown.set(bytes.subarray(0, at));
          bytes = grown;
        }
        at += encoder.encodeInto(line, bytes.subarray(at)).written;
        bytes[at++] = NEWLINE;
      }
      ends.push(at);
    }
    bytes = bytes.subarray(0, at);
    await this.#write(date, bytes);
    batch.forEach((pending, i) => {
      const ndjson = bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);
      pending.resolve({ date, records: pending.records, ndjson });
    });
  }

  async #write(date: string, bytes: Uint8Array): Promise<void> {
    const path = dayFile(this.dir, date);
    let open = this.#open.get(date);
    try {
      if (open === undefined) open = await this.#openDay(date, path);
      let written = 0;
      while (written < bytes.length) written += await open.file.write(bytes.subarray(written));
      await open.file.syncData();
      open.size += bytes.length;
    } catch (err) {
      // Cut a partial write off, so the next batch does not append to a torn line.
      if (open !== undefined) {
        await open.file.truncate(open.size).catch(() => {});
        open.file.close();
        this.#open.delete(date);
      }
      throw new StoreError(
        `Cannot write statistics file ${quote(path)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async #openDay(date: string, path: string): Promise<OpenDay> {
    await Deno.mkdir(this.dir, { recursive: true });
    const created = !(await exists(path));
    const file = await Deno.open(path, { create: true, append: true });
    let open: OpenDay;
    try {
      open = { file, size: (await file.stat()).size };
      // The new name must survive a power cut too, not only the data written to it.
      if (created) await syncDir(this.dir);
    } catch (err) {
      // Not yet in #open, so #write's clean-up cannot close it: close it here.
      file.close();
      throw err;
    }
    this.#open.set(date, open);
    return open;
  }
}

/** A repaired file and the bytes of its torn last line that were cut off. */
export interface Repair {
  path: string;
  removedBytes: number;
}

/**
 * Cuts a torn last line (a crash in the middle of a write) off every day file,
 * so the files stay valid NDJSON; run before the first write after a start.
 */
export async function repairTornLines(dir: string): Promise<Repair[]> {
  const repairs: Repair[] = [];
  for (const date of await dayFileDates(dir)) {
    const path = dayFile(dir, date);
    const removedBytes = await repairFile(path);
    if (removedBytes > 0) repairs.push({ path, removedBytes });
  }
  return repairs;
}

async function repairFile(path: string): Promise<number> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    const size = (await file.stat()).size;
    const keep = await endOfLastLine(file, size);
    if (keep === size) return 0;
    await file.truncate(keep);
    await file.syncData();
    return size - keep;
  } finally {
    file.close();
  }
}

/** The length of the file up to and including its last newline (0 if none). */
async function endOfLastLine(file: Deno.FsFile, size: number): Promise<number> {
  const chunk = new Uint8Array(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const view = chunk.subarray(0, end - start);
    await file.seek(start, Deno.SeekMode.Start);
    let read = 0;
    while (read < view.length) {
      const n = await file.read(view.subarray(read));
      if (n === null) break;
      read += n;
    }
    const at = view.subarray(0, read).lastIndexOf(NEWLINE);
    if (at !== -1) return start + at + 1;
    end = start;
  }
  return 0;
}
