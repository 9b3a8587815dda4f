/**
 * Reading and checking an import's lines on a worker thread while the import's own thread writes
 * the rows: at a million records, 6.7 s in process instead of 8.6–8.8 s on one thread (measured
 * 2026-12-03). The writing thread, which also rebuilds the rows, stays the busier of the two.
 *
 * The import's thread reads the input and posts it in chunks; the worker splits them into lines,
 * parses and checks each, and posts back every chunk's rows packed (_packed_lines.ts). At most
 * {@link CHUNKS_AHEAD} chunks are on their way at once, so a slow side holds up the other instead
 * of the input piling up in memory.
 *
 * The worker runs this module (core/program_worker.ts); in the bundled form the mirror's apply
 * worker's module is loaded on it too, and ignores these messages as this one ignores its. Where
 * the worker cannot start, the import reads its lines on its own thread.
 */
import type { Origin } from "../store/mod.ts";
import {
  AppError,
  type ErrorKind,
  type ProgramWorker,
  readLines,
  startProgramWorker,
} from "../core/mod.ts";
import {
  type FeedSpec,
  type ImportFormat,
  type ParsedSink,
  type ParseEnd,
  parseLines,
} from "./_line_parser.ts";
import { LinePacker, type PackedLines, transferables, unpackLines } from "./_packed_lines.ts";

/** What the worker is to read: plain data, as it crosses threads. */
export interface ParseJob {
  format: ImportFormat | FeedSpec;
  origin: Origin;
  source: string;
}

// Chunks posted to the worker and not yet answered; each is CHUNK_BYTES or the input's last.
// 3 MiB ahead keeps the worker busy through a batch's writes (_import_rows.ts), and keeps the
// progress line (which counts what is read) close to what is written.
const CHUNKS_AHEAD = 48;
const CHUNK_BYTES = 65_536;
const TAG = "pksn-parse";
// Loading the program on the worker takes a fraction of a second; this is far beyond it.
const START_LIMIT_MS = 30_000;
// The longest this thread goes without letting timers run while replies are waiting.
const YIELD_MS = 50;

type Request =
  | { tag: typeof TAG; type: "job"; job: ParseJob }
  | { tag: typeof TAG; type: "chunk"; bytes: Uint8Array }
  | { tag: typeof TAG; type: "end" };

type Reply =
  | { tag: typeof TAG; type: "lines"; packed: PackedLines; chunksRead: number }
  | { tag: typeof TAG; type: "done"; packed: PackedLines; end: ParseEnd }
  | {
    tag: typeof TAG;
    type: "failed";
    message: string;
    /** Set when the worker threw an AppError, so this thread throws the same. */
    error?: { kind: ErrorKind; code: string };
  };

/** The part of a worker's global scope the worker side uses (the types here are the window's). */
interface WorkerScope {
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  postMessage(reply: Reply, transfer?: Transferable[]): void;
}

if ("WorkerGlobalScope" in globalThis) {
  const scope = globalThis as unknown as WorkerScope;
  // Chunks posted before the parser asked for them, and the parser's wait for the next one.
  const queued: (Uint8Array | null)[] = [];
  let waiting: ((chunk: Uint8Array | null) => void) | null = null;
  scope.addEventListener("message", (event: MessageEvent) => {
    const request = event.data as Request;
    if (request?.tag !== TAG) return;
    if (request.type === "job") {
      parseHere(request.job, () => {
        const next = queued.shift();
        if (next !== undefined) return Promise.resolve(next);
        return new Promise((resolve) => waiting = resolve);
      }, (reply, transfer) => scope.postMessage(reply, transfer));
      return;
    }
    const chunk = request.type === "chunk" ? request.bytes : null;
    if (waiting === null) queued.push(chunk);
    else {
      const resolve = waiting;
      waiting = null;
      resolve(chunk);
    }
  });
}

/** The worker's side: parses the chunks `next` gives (null ends them), posting each one's lines. */
async function parseHere(
  job: ParseJob,
  next: () => Promise<Uint8Array | null>,
  post: (reply: Reply, transfer: Transferable[]) => void,
): Promise<void> {
  const packer = new LinePacker();
  let chunksRead = 0;
  // Asked for a chunk only when the lines of the last one are parsed (no chunk is read ahead),
  // so each posting holds exactly one chunk's lines; the first posting, before any chunk, says
  // the worker has started.
  const input = new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      const packed = packer.take();
      post({ tag: TAG, type: "lines", packed, chunksRead }, transferables(packed));
      const chunk = await next();
      if (chunk === null) controller.close();
      else {
        chunksRead++;
        controller.enqueue(chunk);
      }
    },
  }, { highWaterMark: 0 });
  try {
    const end = await parseLines(readLines(input), job, packer);
    // A read that stopped early (a header no line can follow) leaves chunks unasked for.
    input.cancel().catch(() => {});
    const packed = packer.take();
    post({ tag: TAG, type: "done", packed, end }, transferables(packed));
  } catch (err) {
    const error = err instanceof AppError ? { kind: err.kind, code: err.code } : undefined;
    post({ tag: TAG, type: "failed", message: (err as Error).message, error }, []);
  }
}

/** A worker thread that parses one import's lines; {@link start} it, {@link close} it after. */
export class ParseWorker {
  readonly #thread: ProgramWorker;
  #broken: string | null = null;
  #onReply: ((reply: Reply) => void) | null = null;
  #onBroken: ((why: string) => void) | null = null;

  private constructor() {
    this.#thread = startProgramWorker(import.meta.url, (data) => {
      const reply = data as Reply;
      if (reply?.tag === TAG) this.#onReply?.(reply);
    }, (why) => {
      this.#broken = why;
      this.#onBroken?.(why);
    });
    this.#broken = this.#thread.unstarted;
  }

  /** Starts the worker thread; it loads the program while the caller goes on. */
  static start(): ParseWorker {
    return new ParseWorker();
  }

  /**
   * Parses `input` on the worker into `sink` (on this thread, a chunk's lines at a time): what
   * the read found, or null if the worker could not start, in which case nothing of `input` was
   * read. Throws if the worker fails after it started.
   */
  async parse(
    job: ParseJob,
    input: ReadableStream<Uint8Array>,
    sink: ParsedSink,
  ): Promise<ParseEnd | null> {
    const worker = this.#thread.worker;
    if (worker === null || this.#broken !== null) return null;
    const replies: Reply[] = [];
    let wake: (() => void) | null = null;
    let broken: string | null = null;
    this.#onReply = (reply) => {
      replies.push(reply);
      wake?.();
    };
    this.#onBroken = (why) => {
      broken = why;
      wake?.();
    };
    let yielded = performance.now();
    const nextReply = async (): Promise<Reply | string> => {
      // Queued replies would otherwise be handled in one unbroken run of promise callbacks,
      // in which no timer fires: the progress line would stand still.
      if (replies.length > 0 && performance.now() - yielded > YIELD_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        yielded = performance.now();
      }
      while (replies.length === 0 && broken === null) {
        await new Promise<void>((resolve) => wake = resolve);
        wake = null;
        yielded = performance.now();
      }
      return replies.shift() ?? broken!;
    };
    worker.postMessage({ tag: TAG, type: "job", job } satisfies Request);
    // A worker that neither starts nor fails within the limit is given up on, as a failed one.
    const limit = setTimeout(() => this.#onBroken?.("it did not start"), START_LIMIT_MS);
    const first = await nextReply();
    clearTimeout(limit);
    if (typeof first === "string") return null; // It never started: nothing was read.
    let answered = 0;
    // Handles one reply: lines go to the sink; the end is returned.
    const handle = (reply: Reply | string): ParseEnd | null => {
      if (typeof reply === "string") throw workerFailed(reply);
      if (reply.type === "failed") {
        if (reply.error === undefined) throw workerFailed(reply.message);
        throw new AppError(reply.error.kind, reply.error.code, reply.message);
      }
      unpackLines(reply.packed, job.origin, sink);
      if (reply.type === "done") return reply.end;
      answered = reply.chunksRead;
      return null;
    };
    // The first reply says the worker started (it has read nothing yet), or why it stopped.
    let end = handle(first);
    const reader = input.getReader();
    let sent = 0;
    let readToEnd = false;
    try {
      for await (const chunk of chunked(reader)) {
        while (sent - answered >= CHUNKS_AHEAD && end === null) end = handle(await nextReply());
        // The worker stopped reading (a header no line can follow): the rest goes unread.
        if (end !== null) break;
        worker.postMessage({ tag: TAG, type: "chunk", bytes: chunk } satisfies Request, [
          chunk.buffer as ArrayBuffer,
        ]);
        sent++;
      }
      readToEnd = end === null;
      if (end === null) worker.postMessage({ tag: TAG, type: "end" } satisfies Request);
      while (end === null) end = handle(await nextReply());
      return end;
    } finally {
      // Input left unread (the read stopped early, or a write failed) is given up, which closes
      // a file at once, as the read on this thread does.
      if (!readToEnd) await reader.cancel().catch(() => {});
      reader.releaseLock();
      this.#onReply = null;
      this.#onBroken = null;
    }
  }

  /** Stops the worker thread. */
  close(): void {
    this.#thread.close();
  }
}

/** The worker stopped after it started: the import's transaction rolls back with this. */
function workerFailed(why: string): AppError {
  return new AppError(
    "internal",
    "parse_worker_failed",
    `The thread reading the import's lines stopped (${why}); nothing was imported. ` +
      'Run it again; "pksn import --single-thread" reads the lines without that thread',
  );
}

/** The input in chunks of about CHUNK_BYTES, each in a buffer of its own (they are transferred). */
async function* chunked(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(CHUNK_BYTES);
  let used = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    let from = 0;
    while (from < value.length) {
      const take = Math.min(value.length - from, CHUNK_BYTES - used);
      buffer.set(value.subarray(from, from + take), used);
      used += take;
      from += take;
      if (used === CHUNK_BYTES) {
        yield buffer;
        buffer = new Uint8Array(CHUNK_BYTES);
        used = 0;
      }
    }
  }
  if (used > 0) yield buffer.slice(0, used);
}
