/**
 * Writing an uploaded body to a private file without holding it in memory, bounded in size,
 * with one voice for "too large" and "the disk is full" whatever the upload is.
 */
import { AppError, quote } from "./errors.ts";

/** How an upload names itself and its limit in errors. */
export interface UploadLimits {
  /** What is uploaded, in a sentence: "bundle", "upgrade bundle". */
  what: string;
  maxBytes: number;
  /** The setting that sets `maxBytes`, named in the 413: "sync.maxFileMiB". */
  limitSetting: string;
  /** The error code for a body past the limit. */
  tooLargeCode: string;
  /** What else the operator can do when the disk refuses it, ending the 507's message. */
  otherwise: string;
  /** fsync before returning, for files another process picks up after a rename. */
  sync?: boolean;
}

/**
 * Writes `body` to the new file `path` (mode 0600; an existing file is refused); 413 with
 * `tooLargeCode` once it passes `maxBytes`, 507 `upload_not_stored` when a write fails.
 * Returns the number of bytes written. On failure the partial file is left for the caller to
 * remove, since only it knows whether `path` is its to remove.
 */
export async function writeUpload(
  body: ReadableStream<Uint8Array>,
  path: string,
  limits: UploadLimits,
): Promise<number> {
  const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > limits.maxBytes) {
        throw new AppError(
          "too_large",
          limits.tooLargeCode,
          `The ${limits.what} is larger than ${limits.maxBytes} bytes (${limits.limitSetting} allows)`,
        );
      }
      let at = 0;
      try {
        while (at < chunk.length) at += await file.write(chunk.subarray(at));
      } catch (err) {
        throw notStored(path, limits, err);
      }
    }
    if (limits.sync) {
      try {
        await file.sync();
      } catch (err) {
        throw notStored(path, limits, err);
      }
    }
  } finally {
    file.close();
  }
  return size;
}

// A full data partition is the likely cause: say where, not a bare 500.
function notStored(path: string, limits: UploadLimits, err: unknown): AppError {
  return new AppError(
    "full",
    "upload_not_stored",
    `Cannot store the uploaded ${limits.what} at ${quote(path)}: ${(err as Error).message}; ` +
      `free space on the data partition, or ${limits.otherwise}`,
    { cause: err },
  );
}
