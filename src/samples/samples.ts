/**
 * Samples clients submit: kept content-addressed in the quarantine folder,
 * recorded in table `sample`, deduplicated by SHA-256, queued for the parent,
 * removed after `stats.sampleRetentionDays`. When the quarantine holds
 * `stats.quarantineMaxBytes`, new samples are refused (507 `quarantine_full`)
 * rather than older ones evicted: a sample not yet forwarded or examined is
 * never deleted to make room; retention frees space.
 */
import {
  AppError,
  type Clock,
  fromHex,
  InvalidInputError,
  type Logger,
  quote,
  toHex,
} from "../core/mod.ts";
import { type DatabaseSync, SampleIndex, type Spool, transaction } from "../store/mod.ts";
import type { QuarantineFolder, TempSample } from "./quarantine.ts";

/** What a sample carries besides its bytes, as sent to the parent node. */
export interface SampleMeta {
  /** The file name's extension without the dot ("exe"), never a path. */
  extension: string | null;
  /** The threat name the client detected, when it gave one. */
  detection: string | null;
}

/** What a client sent besides the bytes, already checked at the edge. */
export interface SampleInput {
  licenceId: number;
  /** The SHA-256 the client claims (lower-case hex), or null. */
  sha256: string | null;
  meta: SampleMeta;
}

/** What {@link SampleStore.receive} did. */
export interface ReceivedSample {
  sha256: string;
  size: number;
  /** True when the node already had these bytes; nothing was stored again. */
  duplicate: boolean;
}

/** What {@link SampleStore} needs. */
export interface SampleStoreDeps {
  db: DatabaseSync;
  folder: QuarantineFolder;
  clock: Clock;
  log: Logger;
  /** `stats.maxSampleBytes`. */
  maxSampleBytes: number;
  /** `stats.quarantineMaxBytes`. */
  maxTotalBytes: number;
  /** `stats.sampleRetentionDays`. */
  retentionDays: number;
  /** Where new samples are queued for the parent; null when there is none. */
  spool: Spool | null;
}

const EXTENSION = /^[a-z0-9]{1,16}$/;
// What `POST /v1/samples` lets through as X-Detection (src/api/samples.ts).
const DETECTION = /^[\x20-\x7e]{1,256}$/;

/**
 * A stored sample whose `meta` column is not what the node wrote (the database
 * was edited or damaged). Reading it again cannot help, so it is never retried.
 */
export class CorruptSampleError extends Error {
  /** Lower-case hex. */
  readonly sha256: string;
  /** Sending it again cannot succeed. */
  readonly retryable = false;

  constructor(sha256: string, why: string) {
    super(`Sample ${quote(sha256)} has unreadable metadata in table "sample": ${why}`);
    this.name = "CorruptSampleError";
    this.sha256 = sha256;
  }
}

/**
 * Reduces a client's file name to its extension (lower case, letters and digits,
 * at most 16), or null. Paths and the name itself never reach the node's records.
 */
export function sampleExtension(name: string | null | undefined): string | null {
  if (!name) return null;
  const base = name.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  if (dot < 0) return null;
  const extension = base.slice(dot + 1).toLowerCase();
  return EXTENSION.test(extension) ? extension : null;
}

const BATCH_PREFIX = "sample:";

/** The batch id a sample is queued under: one entry per sample, however often it arrives. */
export function sampleBatchId(sha256: string): string {
  return `${BATCH_PREFIX}${sha256}`;
}

/** One kept sample as the operator sees it. */
export interface SampleListing {
  sha256: string;
  size: number;
  receivedAt: string;
  extension: string | null;
  detection: string | null;
  /** Waiting in the spool to go to the parent (with its attempts and last error so far). */
  queued: boolean;
  attempts: number;
  lastError: string | null;
}

/** The quarantine's rules over its folder and table. */
export class SampleStore {
  readonly #deps: SampleStoreDeps;
  readonly #index: SampleIndex;
  // Decisions about one upload (duplicate? room?) and its commit happen one at a time.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: SampleStoreDeps) {
    this.#deps = deps;
    this.#index = new SampleIndex(deps.db);
  }

  /**
   * Stores an upload: 413 `sample_too_large` over the size limit, 400
   * `sample_empty` for no bytes, 400 `sample_hash_mismatch` when the bytes do not hash to the claimed SHA-256,
   * 507 `quarantine_full` when there is no room; a known sample is a duplicate.
   */
  async receive(body: ReadableStream<Uint8Array>, input: SampleInput): Promise<ReceivedSample> {
    const { folder } = this.#deps;
    const temp = await folder.writeTemp(body, this.#deps.maxSampleBytes);
    try {
      if (temp.size === 0) throw new InvalidInputError("sample_empty", "Request body is empty");
      if (input.sha256 !== null && input.sha256 !== temp.sha256) {
        throw new InvalidInputError(
          "sample_hash_mismatch",
          `Sample bytes hash to "${temp.sha256}", not to the X-Sample-Sha256 "${input.sha256}"`,
        );
      }
      return await this.#oneAtATime(() => this.#keep(temp, input));
    } finally {
      await folder.discard(temp);
    }
  }

  /**
   * A stored sample's bytes and metadata, or null when it is not (or no longer)
   * kept; a {@link CorruptSampleError} when its metadata cannot be read.
   */
  async read(sha256: string): Promise<{ bytes: Uint8Array; meta: SampleMeta } | null> {
    const row = this.#index.meta(fromHex(sha256));
    if (row === undefined) return null;
    const bytes = await this.#deps.folder.read(sha256);
    if (bytes === null) return null;
    return { bytes, meta: storedMeta(sha256, row.meta) };
  }

  /** The newest `limit` samples kept, and how many and how many bytes are kept in all. */
  list(limit: number): { count: number; bytes: number; samples: SampleListing[] } {
    const samples = this.#index.recent(limit, BATCH_PREFIX).map((row) => {
      const sha256 = toHex(row.sha256);
      let meta: SampleMeta;
      try {
        meta = storedMeta(sha256, row.meta);
      } catch (err) {
        if (!(err instanceof CorruptSampleError)) throw err;
        meta = { extension: null, detection: null };
      }
      return {
        sha256,
        size: Number(row.size),
        receivedAt: new Date(Number(row.receivedAt) * 1000).toISOString(),
        ...meta,
        queued: row.queued === 1,
        attempts: Number(row.attempts ?? 0),
        lastError: row.lastError,
      };
    });
    return { count: this.#index.count(), bytes: this.#index.usedBytes(), samples };
  }

  /** Bytes the quarantine holds. */
  usedBytes(): number {
    return this.#index.usedBytes();
  }

  /** Removes samples older than the retention period (and their spool entries); returns how many. */
  prune(): Promise<number> {
    return this.#oneAtATime(async () => {
      const { db, folder, spool, clock, retentionDays } = this.#deps;
      const cutoff = Math.floor(clock.now() / 1000) - retentionDays * 86_400;
      let removed = 0;
      for (;;) {
        const expired = this.#index.receivedBefore(cutoff);
        if (expired.length === 0) break;
        for (const sha256 of expired) {
          const hex = toHex(sha256);
          // The row goes first: a crash in between leaves an orphan file, never a row without one.
          transaction(db, () => {
            this.#index.delete(sha256);
            spool?.removeBatch(sampleBatchId(hex));
          });
          await folder.remove(hex);
          removed++;
        }
      }
      if (removed > 0) {
        this.#deps.log.info(`Removed ${removed} samples older than ${retentionDays} days`);
      }
      return removed;
    });
  }

  async #keep(temp: TempSample, input: SampleInput): Promise<ReceivedSample> {
    const { db, folder, spool, clock, maxTotalBytes } = this.#deps;
    const key = fromHex(temp.sha256);
    const answer = { sha256: temp.sha256, size: temp.size };
    if (this.#index.has(key)) return { ...answer, duplicate: true };
    if (this.usedBytes() + temp.size > maxTotalBytes) {
      throw new AppError(
        "full",
        "quarantine_full",
        `Quarantine is full (stats.quarantineMaxBytes ${maxTotalBytes}): sample not stored; ` +
          "older samples leave after stats.sampleRetentionDays",
      );
    }
    await folder.commit(temp);
    const meta: Record<string, string> = {};
    if (input.meta.extension) meta.extension = input.meta.extension;
    if (input.meta.detection) meta.detection = input.meta.detection;
    try {
      transaction(db, () => {
        this.#index.insert({
          sha256: key,
          size: temp.size,
          receivedAt: Math.floor(clock.now() / 1000),
          licenceId: input.licenceId,
          meta: JSON.stringify(meta),
        });
        spool?.enqueue("sample", sampleBatchId(temp.sha256), key);
      });
    } catch (err) {
      // Without its row a file would escape the quota and retention: take it back out.
      await folder.remove(temp.sha256).catch(() => {});
      throw err;
    }
    return { ...answer, duplicate: false };
  }

  #oneAtATime<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** Reads a `meta` column back, holding it to what {@link SampleStore} writes. */
function storedMeta(sha256: string, text: string | null): SampleMeta {
  let stored: unknown;
  try {
    stored = JSON.parse(text ?? "{}");
  } catch (err) {
    throw new CorruptSampleError(sha256, `not JSON (${(err as Error).message})`);
  }
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) {
    throw new CorruptSampleError(sha256, "not a JSON object");
  }
  const { extension = null, detection = null } = stored as Record<string, unknown>;
  // The values become request headers upstream: anything else would fail every send.
  if (extension !== null && !(typeof extension === "string" && EXTENSION.test(extension))) {
    throw new CorruptSampleError(sha256, `invalid "extension" ${shown(extension)}`);
  }
  if (detection !== null && !(typeof detection === "string" && DETECTION.test(detection))) {
    throw new CorruptSampleError(sha256, `invalid "detection" ${shown(detection)}`);
  }
  return { extension, detection };
}

function shown(value: unknown): string {
  return quote(typeof value === "string" ? value : JSON.stringify(value));
}
