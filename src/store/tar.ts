/**
 * TAR files through tar-stream: writing flat archives of regular files, and
 * reading them back safely (regular files with plain names only, sizes capped,
 * every entry read to its end).
 */
// @ts-types="@types/tar-stream"
import tar from "tar-stream";
import { AppError, quote } from "../core/mod.ts";

/** One file to put into an archive. */
export interface TarInput {
  name: string;
  size: number;
  mtime: Date;
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/** One file read from an archive; read `body` to its end or stop reading the archive. */
export interface TarEntry {
  name: string;
  size: number;
  body: AsyncIterable<Uint8Array>;
}

const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const DEFAULT_MAX_ENTRY = 64 * 1024 * 1024 * 1024;

interface Emitter {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

function once(stream: Emitter, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const event of events) stream.off(event, done);
      resolve();
    };
    for (const event of events) stream.on(event, done);
  });
}

/** Writes `files` into a new TAR at `path` and syncs it to disk. */
export async function writeTar(path: string, files: TarInput[]): Promise<void> {
  const pack = tar.pack();
  const out = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const writing = (async (): Promise<void> => {
      for await (const chunk of pack) {
        let written = 0;
        while (written < chunk.length) written += await out.write(chunk.subarray(written));
      }
    })();
    try {
      for (const file of files) await addEntry(pack, file);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
      throw err;
    } finally {
      await writing;
    }
    await out.sync();
  } finally {
    out.close();
  }
}

async function addEntry(pack: tar.Pack, file: TarInput): Promise<void> {
  let failure: Error | null | undefined;
  const finished = new Promise<void>((resolve) => {
    const sink = pack.entry(
      { name: file.name, size: file.size, mtime: file.mtime, mode: 0o644, type: "file" },
      (err) => {
        failure = err;
        resolve();
      },
    );
    (async (): Promise<void> => {
      for await (const chunk of file.chunks) {
        if (!sink.write(chunk)) await once(sink, ["drain", "close"]);
      }
      sink.end();
    })().catch((err) => sink.destroy(err));
  });
  await finished;
  if (failure) throw failure;
}

/**
 * Reads the entries of the TAR at `path` in order. Anything but a regular file
 * with a plain name (no folders, no `..`, no links or devices) or an entry
 * larger than `maxEntryBytes` stops the read with 500 `archive_damaged`;
 * `label` names the kind of archive in that message.
 */
export async function* readTar(
  path: string,
  options: { maxEntryBytes?: number; label?: string } = {},
): AsyncGenerator<TarEntry> {
  const max = options.maxEntryBytes ?? DEFAULT_MAX_ENTRY;
  const label = options.label ?? "Archive";
  const extract = tar.extract();
  const reader = (await Deno.open(path, { read: true })).readable.getReader();
  const feeding = feed(reader, extract);
  try {
    for await (const entry of extract) {
      const { name, type, size = 0 } = entry.header;
      if (type !== "file" || !PLAIN_NAME.test(name) || name.includes("..")) {
        throw archiveDamaged(label, path, `unexpected entry ${quote(name)} of type ${quote(type)}`);
      }
      if (size > max) {
        throw archiveDamaged(label, path, `entry ${quote(name)} is larger than ${max} bytes`);
      }
      yield { name, size, body: entry };
      if (!entry.destroyed) {
        for await (const _ of entry) {
          // Drained: tar-stream moves to the next entry only after this one's end.
        }
      }
    }
  } catch (err) {
    // tar-stream's own parse errors ("Invalid tar header", "Unexpected end of data")
    // mean the same to an operator as ours: the archive is damaged.
    if (err instanceof AppError) throw err;
    throw archiveDamaged(label, path, (err as Error).message);
  } finally {
    extract.destroy();
    await feeding;
  }
}

async function feed(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  extract: tar.Extract & Emitter & { destroyed?: boolean },
): Promise<void> {
  try {
    while (!extract.destroyed) {
      const { done, value } = await reader.read();
      if (done) {
        extract.end();
        return;
      }
      if (!extract.write(value)) await once(extract, ["drain", "close"]);
    }
  } catch (err) {
    extract.destroy(err as Error);
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** 500 `archive_damaged`: an archive that cannot be read as pksn wrote it. */
export function archiveDamaged(label: string, path: string, why: string): AppError {
  return new AppError("internal", "archive_damaged", `${label} ${quote(path)} is damaged: ${why}`);
}
