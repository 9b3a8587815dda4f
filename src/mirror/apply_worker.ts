/**
 * Applying a verified feed file on a worker thread with a database connection of
 * its own. A delta is written in one synchronous transaction (so a crash leaves
 * the old version or the new one, never a mix), and on a 1M-record mirror that
 * transaction and its commit hold a thread for several hundred milliseconds: on
 * the worker, that thread is not the one that answers look-ups.
 *
 * The worker runs this module (core/program_worker.ts). Where it cannot start (a
 * sandbox that may not read the program's own file), it says so and the caller
 * applies on its own thread.
 */
import { type ProgramWorker, startProgramWorker } from "../core/mod.ts";
import { openDatabase } from "../store/mod.ts";
import { applyDelta, applySnapshot, fileSource, StreamReader, SyncError } from "../feed/mod.ts";

/** One file for the worker to apply. */
export interface ApplyJob {
  /** The database file; the worker opens a connection of its own to it. */
  database: string;
  /** The verified feed file. */
  path: string;
  /** Its name in the feed, for messages. */
  name: string;
  kind: "snapshot" | "delta";
  /** Signed expiry (ms) of the timestamp the version came with. */
  expires: number | null;
  /** Page cache of the worker's connection: the delta's changed pages stay in it until commit. */
  cacheMiB: number;
}

type Reply =
  | { type: "started" }
  | { type: "progress"; done: number }
  | { type: "done" }
  | { type: "failed"; code: string | null; message: string };

/** The part of a worker's global scope the worker side uses (the types here are the window's). */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ApplyJob>) => void) | null;
  postMessage(reply: Reply): void;
}

if ("WorkerGlobalScope" in globalThis) {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = async (event: MessageEvent<ApplyJob>): Promise<void> => {
    // In the bundled form the import's parse worker (feeds/parse_worker.ts) loads this module too.
    if (typeof event.data?.database !== "string") return;
    const post = (reply: Reply): void => scope.postMessage(reply);
    post({ type: "started" });
    try {
      await applyHere(event.data, (done) => post({ type: "progress", done }));
      post({ type: "done" });
    } catch (err) {
      post({
        type: "failed",
        code: err instanceof SyncError ? err.code : null,
        message: (err as Error).message,
      });
    }
  };
}

/** Applies `job` on the worker's thread; `onProgress` is told the records read between chunks. */
async function applyHere(job: ApplyJob, onProgress: (done: number) => void): Promise<void> {
  const db = openDatabase(job.database, { cacheMiB: job.cacheMiB });
  const file = await Deno.open(job.path, { read: true });
  try {
    const reader = new StreamReader(fileSource(file), job.name);
    // Nothing else runs on this thread, so the chunks need not be short; the pause only reports.
    const pause = (): Promise<void> => {
      onProgress(reader.recordsRead);
      return Promise.resolve();
    };
    if (job.kind === "snapshot") await applySnapshot(db, reader, { expires: job.expires, pause });
    else await applyDelta(db, reader, { expires: job.expires, pause });
  } finally {
    file.close();
    db.close();
  }
}

/**
 * A worker thread for one sync run's applies, started before the run's files
 * download so that loading the program on it overlaps the download. Files are
 * applied one at a time.
 */
export class ApplyWorker {
  readonly #thread: ProgramWorker;
  #broken: string | null = null;
  #current: {
    onProgress: (done: number) => void;
    resolve: (applied: boolean) => void;
    reject: (err: Error) => void;
    started: boolean;
  } | null = null;

  private constructor() {
    this.#thread = startProgramWorker(
      import.meta.url,
      (data) => this.#reply(data as Reply),
      (why) => this.#failed(why),
    );
    this.#broken = this.#thread.unstarted;
  }

  /** Starts the worker thread; it loads the program while the caller goes on. */
  static start(): ApplyWorker {
    return new ApplyWorker();
  }

  /** Why the worker cannot be used (it failed to start or to load the program), or null. */
  get unavailable(): string | null {
    return this.#thread.worker === null ? this.#broken ?? "no worker" : this.#broken;
  }

  /**
   * Applies `job` on the worker: true once applied, false if the worker could
   * not be used and nothing was applied (see {@link unavailable}). Throws what
   * the apply threw: a {@link SyncError} keeps its code.
   */
  apply(job: ApplyJob, onProgress: (done: number) => void): Promise<boolean> {
    if (this.unavailable !== null) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      this.#current = { onProgress, resolve, reject, started: false };
      this.#thread.worker!.postMessage(job);
    });
  }

  /** Stops the worker thread. */
  close(): void {
    this.#thread.close();
  }

  #reply(reply: Reply): void {
    const current = this.#current;
    if (current === null) return;
    if (reply.type === "started") current.started = true;
    else if (reply.type === "progress") current.onProgress(reply.done);
    else {
      this.#current = null;
      if (reply.type === "done") current.resolve(true);
      else {
        current.reject(
          reply.code === null ? new Error(reply.message) : new SyncError(reply.code, reply.message),
        );
      }
    }
  }

  #failed(why: string): void {
    this.#broken = why;
    const current = this.#current;
    if (current === null) return;
    this.#current = null;
    if (current.started) {
      current.reject(new Error(`The apply worker failed: ${why}`));
      return;
    }
    // It never got as far as the job: nothing was applied, so the caller can do it.
    current.resolve(false);
  }
}
