/** Plumbing for the CLI tests: seeding a data folder in-process and `pksn serve` as a child. */
import assert from "node:assert/strict";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { importRecords } from "../../src/feeds/mod.ts";
import { ORIGIN_LOCAL, ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { readLines } from "../../src/core/lines.ts";
import { pksnCommand, runCli } from "../_helpers.ts";

/**
 * Imports NDJSON records into `dataDir` in this process: faster than a `pksn
 * import` child when the import itself is not what a test is about.
 */
export async function seedDataDir(
  dataDir: string,
  records: unknown[],
  options: { override?: boolean; source?: string } = {},
): Promise<void> {
  const db = await openStore(dataDir, { cacheMiB: 8, log: memoryLogger() });
  try {
    const text = records.map((r) => JSON.stringify(r)).join("\n") + "\n";
    const report = await importRecords(
      db,
      readLines(ReadableStream.from([new TextEncoder().encode(text)])),
      {
        format: "ndjson",
        origin: options.override ? ORIGIN_LOCAL : ORIGIN_MIRROR,
        source: options.source ?? "seed",
      },
    );
    assert.ok(report.committed, `seed records are valid: ${JSON.stringify(report.errors)}`);
  } finally {
    db.close();
  }
}

/** Runs `pksn db check --json` on `dataDir` and returns the parsed report. */
export async function dbCheckJson(dataDir: string): Promise<DbCheckReport> {
  const result = await runCli(["db", "check", "--json", "--data", dataDir]);
  assert.equal(result.code, 0, `db check exits 0: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The JSON `pksn db check --json` prints. */
export interface DbCheckReport {
  path: string;
  ok: boolean;
  schemaVersion: number;
  bytes: number;
  counts: Record<string, { mirror: number; local: number }>;
  problems: string[];
}

/** Asserts that stderr carries no uncaught-exception report. */
export function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /Uncaught|^\s+at /m, `no stack trace on stderr:\n${stderr}`);
}

/** Text read from a child's pipe as it arrives, so a test can wait for a line. */
export class StreamText {
  text = "";
  closed = false;
  /** Settles when the stream has ended. */
  readonly done: Promise<void>;
  readonly #waiters = new Set<() => void>();

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#read(stream);
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.text += decoder.decode(chunk, { stream: true });
      this.#notify();
    }
    this.text += decoder.decode();
    this.closed = true;
    this.#notify();
  }

  #notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Waits until the text matches `pattern`; throws on timeout or end of stream. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const match = this.text.match(pattern);
      if (match) return match;
      if (this.closed) throw new Error(`Stream ended before ${pattern}:\n${this.text}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${pattern}:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }
}

/** A `pksn` child process whose output the test reads as it arrives. */
export interface CliProcess {
  child: Deno.ChildProcess;
  stdout: StreamText;
  stderr: StreamText;
  /** Waits for the exit and for both pipes to drain. */
  finished(): Promise<Deno.CommandStatus>;
}

/** Starts `pksn ARGS` with the same Deno as the tests, reading both pipes as they fill. */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; serving?: boolean } = {},
): CliProcess {
  const child = pksnCommand(args, { env: options.env, serving: options.serving }).spawn();
  const stdout = new StreamText(child.stdout);
  const stderr = new StreamText(child.stderr);
  return {
    child,
    stdout,
    stderr,
    async finished(): Promise<Deno.CommandStatus> {
      const status = await child.status;
      await Promise.all([stdout.done, stderr.done]);
      return status;
    },
  };
}

/** A `pksn serve` child process that has logged its listening URL. */
export interface ServeProcess extends AsyncDisposable, Omit<CliProcess, "finished"> {
  /** Base URL from the "pksn listening on" line. */
  url: string;
  /** Sends `signal`, waits for the exit and for both pipes to drain. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `pksn serve ARGS` (with the serving heap limits when `serving`), waits (with a timeout) until it logs where it listens
 * and then until it answers `GET /healthz`. The answer is the sync point: the
 * server only handles a request after its start-up code, signal handlers
 * included, has run. `answering: false` returns right after the log line.
 */
export async function startServe(
  args: string[],
  options: { env?: Record<string, string>; answering?: boolean; serving?: boolean } = {},
): Promise<ServeProcess> {
  const { child, stdout, stderr, finished } = spawnCli(["serve", ...args], {
    env: options.env,
    serving: options.serving,
  });
  let status: Deno.CommandStatus | undefined;
  const stop = async (signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> => {
    if (status === undefined) {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
      status = await finished();
    }
    return status;
  };
  let url: string;
  try {
    url = (await stderr.waitFor(/pksn listening on (https?:\/\/\S+)/))[1];
    if (options.answering ?? true) {
      const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
      await health.body?.cancel();
      assert.equal(health.status, 200, `GET /healthz answers 200:\n${stderr.text}`);
    }
  } catch (err) {
    await stop("SIGKILL");
    throw err;
  }
  return {
    url,
    child,
    stdout,
    stderr,
    stop,
    async [Symbol.asyncDispose](): Promise<void> {
      await stop("SIGKILL");
    },
  };
}
