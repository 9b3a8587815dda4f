/**
 * The quarantine folder: sample files named by their SHA-256 under
 * `DATA/quarantine/ab/cd/<sha256>`, owner-only (0600), written to a temporary
 * file, fsynced and renamed into place. Nothing here executes or serves them.
 * A body that cannot be read is the client's fault (400 `body_incomplete`); a
 * file that cannot be written (a full disk, say) is the node's (503
 * `store_unavailable`, as for the statistics day files).
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { AppError, InvalidInputError, type Logger, quote, StoreError } from "../core/mod.ts";
import { syncDir } from "../store/mod.ts";

/** An upload written to a temporary file and hashed. */
export interface TempSample {
  path: string;
  sha256: string;
  size: number;
}

/** The part of a file {@link QuarantineFolder} writes through. */
export type TempFile = Pick<Deno.FsFile, "write" | "sync" | "close">;

/** Options of {@link QuarantineFolder}. */
export interface QuarantineOptions {
  /** Where a failed write is logged. */
  log?: Logger;
  /** Creates a temporary file; tests inject one whose writes fail. */
  openTemp?: (path: string) => Promise<TempFile>;
}

const TEMP = "tmp";

function openTempFile(path: string): Promise<TempFile> {
  return Deno.open(path, { write: true, createNew: true, mode: 0o600 });
}

/** The quarantine folder of a data folder. */
export function quarantineRoot(dataDir: string): string {
  return join(dataDir, "quarantine");
}

/** Sample files on disk; the rules (quota, dedup, retention) live in `samples.ts`. */
export class QuarantineFolder {
  readonly root: string;
  readonly #log: Logger | undefined;
  readonly #openTemp: (path: string) => Promise<TempFile>;

  constructor(root: string, options: QuarantineOptions = {}) {
    this.root = root;
    this.#log = options.log;
    this.#openTemp = options.openTemp ?? openTempFile;
  }

  /** Where the sample with this SHA-256 (lower-case hex) lives. */
  pathOf(sha256: string): string {
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** Removes temporary files a crash left behind. */
  async clearTemp(): Promise<void> {
    await Deno.remove(join(this.root, TEMP), { recursive: true }).catch(() => {});
  }

  /**
   * Streams `body` into a new temporary file, hashing it on the way; 413
   * `sample_too_large` as soon as it passes `limit` bytes, 400 `body_incomplete`
   * when the body breaks off, 503 `store_unavailable` when the file cannot be
   * written. The temporary file is gone after any of them.
   */
  async writeTemp(body: ReadableStream<Uint8Array>, limit: number): Promise<TempSample> {
    const dir = join(this.root, TEMP);
    const path = join(dir, crypto.randomUUID());
    let file: TempFile;
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      file = await this.#openTemp(path);
    } catch (err) {
      throw this.#storeFailed(err);
    }
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of bodyChunks(body)) {
        size += chunk.byteLength;
        if (size > limit) throw sampleTooLarge(limit);
        hash.update(chunk);
        try {
          let written = 0;
          while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
        } catch (err) {
          throw this.#storeFailed(err);
        }
      }
      try {
        await file.sync();
      } catch (err) {
        throw this.#storeFailed(err);
      }
    } catch (err) {
      file.close();
      await Deno.remove(path).catch(() => {});
      throw err;
    }
    file.close();
    return { path, sha256: hash.digest("hex"), size };
  }

  /**
   * Moves a temporary file to its content address (owner-only) and makes the
   * rename durable; 503 `store_unavailable` when it cannot. The caller discards
   * the temporary file.
   */
  async commit(temp: TempSample): Promise<void> {
    const target = this.pathOf(temp.sha256);
    let renamed = false;
    try {
      await Deno.mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await Deno.chmod(temp.path, 0o600);
      await Deno.rename(temp.path, target);
      renamed = true;
      await syncDir(dirname(target));
    } catch (err) {
      // A file without its row would escape the quota and retention.
      if (renamed) await Deno.remove(target).catch(() => {});
      throw this.#storeFailed(err);
    }
  }

  /** Deletes a temporary file, if it is still there. */
  async discard(temp: TempSample): Promise<void> {
    await Deno.remove(temp.path).catch(() => {});
  }

  /** A sample's bytes, or null when the file is gone. */
  async read(sha256: string): Promise<Uint8Array | null> {
    try {
      return await Deno.readFile(this.pathOf(sha256));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /** Deletes a sample file; a missing one is not an error. */
  async remove(sha256: string): Promise<void> {
    await Deno.remove(this.pathOf(sha256)).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }

  /** The 503 for a file that cannot be written, logged when there is a logger. */
  #storeFailed(err: unknown): AppError {
    if (err instanceof AppError) return err;
    const why = (err as Error)?.message ?? String(err);
    const failure = new StoreError(
      `Cannot store the sample in quarantine folder ${quote(this.root, Infinity)}: ${why}; ` +
        "check free space and the folder's permissions",
      { cause: err },
    );
    this.#log?.error(failure.message);
    return failure;
  }
}

/** The chunks of a request body; a body that breaks off is 400 `body_incomplete`. */
async function* bodyChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    // A throw in the caller's loop ends this at the `yield`, without reaching the catch.
    for await (const chunk of body) yield chunk;
  } catch (err) {
    throw new InvalidInputError(
      "body_incomplete",
      `Request body could not be read: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  }
}

/** The 413 for a sample over `stats.maxSampleBytes`. */
export function sampleTooLarge(limit: number): AppError {
  return new AppError(
    "too_large",
    "sample_too_large",
    `Sample is larger than ${limit} bytes (stats.maxSampleBytes)`,
  );
}
