/**
 * The quarantine folder: sample files named by their SHA-256 under
 * `DATA/quarantine/ab/cd/<sha256>`, owner-only (0600), written to a temporary
 * file, fsynced and renamed into place. Nothing here executes or serves them.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { AppError, InvalidInputError } from "../errors.ts";
import { syncDir } from "../store/files.ts";

/** An upload written to a temporary file and hashed. */
export interface TempSample {
  path: string;
  sha256: string;
  size: number;
}

const TEMP = "tmp";

/** The quarantine folder of a data folder. */
export function quarantineRoot(dataDir: string): string {
  return join(dataDir, "quarantine");
}

/** Sample files on disk; the rules (quota, dedup, retention) live in `samples.ts`. */
export class QuarantineFolder {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
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
   * `sample_too_large` as soon as it passes `limit` bytes.
   */
  async writeTemp(body: ReadableStream<Uint8Array>, limit: number): Promise<TempSample> {
    const dir = join(this.root, TEMP);
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, crypto.randomUUID());
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    const hash = createHash("sha256");
    let size = 0;
    try {
      try {
        for await (const chunk of body) {
          size += chunk.byteLength;
          if (size > limit) throw sampleTooLarge(limit);
          hash.update(chunk);
          let written = 0;
          while (written < chunk.byteLength) written += await file.write(chunk.subarray(written));
        }
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new InvalidInputError(
          "body_incomplete",
          `Request body could not be read: ${(err as Error).message}`,
        );
      }
      await file.sync();
    } catch (err) {
      file.close();
      await Deno.remove(path).catch(() => {});
      throw err;
    }
    file.close();
    return { path, sha256: hash.digest("hex"), size };
  }

  /** Moves a temporary file to its content address (owner-only) and makes the rename durable. */
  async commit(temp: TempSample): Promise<void> {
    const target = this.pathOf(temp.sha256);
    await Deno.mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await Deno.chmod(temp.path, 0o600);
    await Deno.rename(temp.path, target);
    await syncDir(dirname(target));
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
}

/** The 413 for a sample over `stats.maxSampleBytes`. */
export function sampleTooLarge(limit: number): AppError {
  return new AppError(
    413,
    "sample_too_large",
    `Sample is larger than ${limit} bytes (stats.maxSampleBytes)`,
  );
}
