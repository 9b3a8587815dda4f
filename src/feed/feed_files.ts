/**
 * Files of a feed tree on local disk: content-addressed names, atomic writes,
 * and reading a file back only if its hash and length are what was signed.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { quote } from "../core/mod.ts";
import { syncDir } from "../store/mod.ts";
import type { FileRef } from "./metadata.ts";
import { SyncError } from "./sync_error.ts";

/** The one mutable file: the signed pointer to the current manifest. */
export const TIMESTAMP_FILE = "timestamp.json";
/** The current root key set; `root.N.json` holds each version for clients catching up. */
export const ROOT_FILE = "root.json";
/** Name of root version `n`. */
export const rootFile = (n: number): string => `root.${n}.json`;
/** Largest accepted timestamp.json or root.N.json. */
export const MAX_METADATA_BYTES = 64 * 1024;
/** Largest accepted manifest. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Writes `chunks` to `path` through a temporary file, fsync and rename. Returns the SHA-256 hex. */
export async function writeFileAtomic(
  path: string,
  chunks: Iterable<Uint8Array>,
): Promise<{ sha256: string; length: number }> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${crypto.randomUUID()}`;
  const hash = createHash("sha256");
  let length = 0;
  const file = await Deno.open(temp, { write: true, create: true, truncate: true });
  try {
    for (const chunk of chunks) {
      hash.update(chunk);
      length += chunk.length;
      let written = 0;
      while (written < chunk.length) written += await file.write(chunk.subarray(written));
    }
    await file.sync();
  } catch (err) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  file.close();
  await Deno.rename(temp, path);
  await syncDir(dirname(path));
  return { sha256: hash.digest("hex"), length };
}

/** SHA-256 hex and length of a file on disk, read in chunks. */
export async function hashFile(path: string): Promise<{ sha256: string; length: number }> {
  const hash = createHash("sha256");
  let length = 0;
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
      length += n;
    }
  } finally {
    file.close();
  }
  return { sha256: hash.digest("hex"), length };
}

/** Throws `hash_mismatch` or `wrong_length` unless the file at `path` is exactly `ref`. */
export async function checkFile(path: string, ref: FileRef): Promise<void> {
  const got = await hashFile(path);
  if (got.length !== ref.length) {
    throw new SyncError(
      "wrong_length",
      `${quote(ref.name)} is ${got.length} bytes; the signed metadata says ${ref.length}`,
    );
  }
  if (got.sha256 !== ref.sha256) {
    throw new SyncError(
      "hash_mismatch",
      `${quote(ref.name)} has SHA-256 ${got.sha256}; the signed metadata says ${ref.sha256}`,
    );
  }
}

/** Reads a small text file, or returns null if it does not exist. */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Joins a feed-relative name to a folder, refusing names that climb out of it. */
export function feedPath(root: string, name: string): string {
  if (name.startsWith("/") || name.split("/").some((part) => part === ".." || part === "")) {
    throw new SyncError("invalid_metadata", `Feed file name ${quote(name)} is not allowed`);
  }
  return join(root, name);
}

export { pathExists } from "../store/mod.ts";
