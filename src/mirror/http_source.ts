/**
 * The feed over HTTP. Data files are downloaded with `Range` resume into a
 * `.part` file, never past their signed length; metadata reads stop at a cap.
 *
 * Over 300 lines on purpose: resume, length caps and the error messages of one download
 * depend on each other and are read together.
 */
import { type Logger, parseRetryAfter, quote } from "../core/mod.ts";
import type { FeedSource } from "./feed_source.ts";
import { type FileRef, SyncError } from "../feed/mod.ts";

// URLs and staging paths run long, and their ends (the file names) are the parts that tell.
const quoteLong = (text: string): string => quote(text, 400);

/** Options for {@link HttpFeedSource}. */
export interface HttpFeedOptions {
  /** The tree's base URL; a missing trailing slash is added. */
  url: string;
  /** Sent as `Authorization: Bearer` to a parent node that guards /feed/. */
  key: string | null;
  /** One request's time limit. */
  timeoutSeconds: number;
  /** Aborts everything (the run's deadline). */
  signal?: AbortSignal;
  /** PEM text of a CA to trust. */
  caCert?: string | null;
  log: Logger;
  now: () => number;
  /** Counts each resumed download. */
  onResume?: () => void;
  /** Told the bytes of a data file on disk so far, after each chunk (progress on a terminal). */
  onBytes?: (ref: FileRef, bytes: number) => void;
  /** Attempts per data file within one run (each resumes the last). */
  attempts?: number;
}

/** Reads a feed tree from an HTTP server. */
export class HttpFeedSource implements FeedSource {
  readonly label: string;
  readonly #base: string;
  readonly #options: HttpFeedOptions;
  readonly #client: Deno.HttpClient | undefined;

  constructor(options: HttpFeedOptions) {
    this.#base = options.url.endsWith("/") ? options.url : `${options.url}/`;
    this.label = this.#base;
    this.#options = options;
    this.#client = options.caCert
      ? Deno.createHttpClient({ caCerts: [options.caCert] })
      : undefined;
  }

  /** Releases the TLS client, if one was made. */
  close(): void {
    this.#client?.close();
  }

  #url(name: string): URL {
    return new URL(name, this.#base);
  }

  async #get(name: string, headers: Record<string, string> = {}): Promise<Response> {
    const url = this.#url(name);
    if (this.#options.key !== null) headers.Authorization = `Bearer ${this.#options.key}`;
    const timeout = AbortSignal.timeout(this.#options.timeoutSeconds * 1000);
    const signal = this.#options.signal
      ? AbortSignal.any([timeout, this.#options.signal])
      : timeout;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal, client: this.#client, redirect: "follow" });
    } catch (err) {
      if (this.#options.signal?.aborted) throw this.#deadline(url, err);
      const why = (err as Error).name === "TimeoutError"
        ? `no answer within ${this.#options.timeoutSeconds} s`
        : (err as Error).message;
      throw new SyncError("unreachable", `Cannot fetch ${quoteLong(url.href)}: ${why}`, {
        cause: err,
      });
    }
    if (response.status === 429 || response.status === 503) {
      await response.body?.cancel();
      throw new SyncError(
        "busy",
        `${quoteLong(url.href)} answered ${response.status}; trying again later`,
        {
          retryAfterSeconds: parseRetryAfter(
            response.headers.get("Retry-After"),
            this.#options.now(),
          ),
        },
      );
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      const advice = this.#options.key === null
        ? "the server wants credentials; set sync.key to this node's licence key at the parent"
        : "check sync.key (this node's licence key at the parent)";
      throw new SyncError(
        "unauthorized",
        `${quoteLong(url.href)} answered ${response.status}: ${advice}`,
      );
    }
    return response;
  }

  #deadline(url: URL, cause: unknown): SyncError {
    return new SyncError(
      "deadline",
      `Cannot fetch ${
        quoteLong(url.href)
      }: the sync run passed its deadline (sync.deadlineSeconds)`,
      { cause },
    );
  }

  async #unexpected(name: string, response: Response): Promise<SyncError> {
    await response.body?.cancel();
    return new SyncError(
      "http_error",
      `${quoteLong(this.#url(name).href)} answered ${response.status}`,
    );
  }

  async text(name: string, maxBytes: number): Promise<string | null> {
    const response = await this.#get(name);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (response.status !== 200) throw await this.#unexpected(name, response);
    const declared = Number(response.headers.get("Content-Length") ?? NaN);
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw new SyncError(
        "too_large",
        `${quote(name)} is ${declared} bytes; at most ${maxBytes} are accepted`,
      );
    }
    const chunks: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of response.body ?? []) {
      length += chunk.length;
      if (length > maxBytes) {
        await response.body?.cancel().catch(() => {});
        throw new SyncError(
          "too_large",
          `${quote(name)} is larger than ${maxBytes} bytes; cut off and refused`,
        );
      }
      chunks.push(chunk);
    }
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new SyncError("invalid_metadata", `${quote(name)} is not UTF-8 text`);
    }
  }

  async fetch(ref: FileRef, path: string): Promise<void> {
    const part = `${path}.part`;
    const attempts = this.#options.attempts ?? 3;
    for (let attempt = 1;; attempt++) {
      let have = await sizeOf(part);
      if (have > ref.length) {
        await Deno.truncate(part, 0);
        have = 0;
      }
      if (have === ref.length) break;
      const headers: Record<string, string> = {};
      if (have > 0) {
        headers.Range = `bytes=${have}-`;
        this.#options.log.info(
          `Resuming download of ${quote(ref.name)} at byte ${have} of ${ref.length}`,
        );
        this.#options.onResume?.();
      }
      const response = await this.#get(ref.name, headers);
      if (response.status === 404) {
        await response.body?.cancel();
        throw new SyncError("missing_file", `${quote(ref.name)} is not on the feed server (404)`);
      }
      if (response.status === 416) {
        await response.body?.cancel();
        throw new SyncError(
          "wrong_length",
          `${
            quote(ref.name)
          }: the server has no bytes from ${have} on; the signed length is ${ref.length}`,
        );
      }
      let offset = 0;
      if (response.status === 206) {
        const contentRange = response.headers.get("Content-Range");
        const range = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange ?? "");
        if (range === null || Number(range[1]) !== have) {
          await response.body?.cancel();
          if (attempt >= attempts) {
            const got = contentRange === null
              ? "without a Content-Range"
              : `with Content-Range ${quote(contentRange)}`;
            throw new SyncError(
              "http_error",
              `${quoteLong(this.#url(ref.name).href)} answered 206 ${got} when asked for the ` +
                `bytes from ${have} on; tried ${attempts} times`,
            );
          }
          // Start again from byte 0: a plain GET that must be answered with 200.
          if (have > 0) await Deno.truncate(part, 0);
          continue;
        }
        offset = have;
      } else if (response.status !== 200) {
        throw await this.#unexpected(ref.name, response);
      }
      const complete = await this.#receive(response, part, offset, ref);
      if (complete) break;
      if (attempt >= attempts) {
        throw new SyncError(
          "truncated",
          `${quote(ref.name)} stopped at byte ${await sizeOf(part)} of ${ref.length} ` +
            `after ${attempts} attempts; the next run resumes from there`,
        );
      }
    }
    await Deno.rename(part, path);
  }

  /**
   * Writes the body at `offset`; true when the file reached its signed length.
   * A connection that breaks off keeps what arrived for the resume; a file
   * that cannot be written fails the run with `disk_error`.
   */
  async #receive(response: Response, part: string, offset: number, ref: FileRef): Promise<boolean> {
    const reader = (response.body ?? ReadableStream.from<Uint8Array>([])).getReader();
    let file: Deno.FsFile | undefined;
    let at = offset;
    try {
      file = await onDisk(
        part,
        () => Deno.open(part, { write: true, create: true, truncate: offset === 0 }),
      );
      await onDisk(part, () => file!.seek(offset, Deno.SeekMode.Start));
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          if (this.#options.signal?.aborted) throw this.#deadline(this.#url(ref.name), err);
          this.#options.log.warn(
            `Download of ${quote(ref.name)} broke off at byte ${at}: ${(err as Error).message}`,
          );
          break;
        }
        if (chunk.done) break;
        if (at + chunk.value.length > ref.length) {
          file.close();
          file = undefined;
          await Deno.remove(part).catch(() => {});
          throw new SyncError(
            "wrong_length",
            `${
              quote(ref.name)
            } is longer than its signed length of ${ref.length} bytes; cut off and refused`,
          );
        }
        await onDisk(part, () => writeAll(file!, chunk.value));
        at += chunk.value.length;
        this.#options.onBytes?.(ref, at);
      }
      await onDisk(part, () => file!.sync());
    } finally {
      await reader.cancel().catch(() => {});
      file?.close();
    }
    return at === ref.length;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** Runs a file operation on `path`, turning its failure (a full disk, say) into `disk_error`. */
async function onDisk<T>(path: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw new SyncError(
      "disk_error",
      `Cannot write ${quoteLong(path)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}
