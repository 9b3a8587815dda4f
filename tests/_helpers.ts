/** Shared test plumbing: temporary data folders, an in-process node, the CLI as a subprocess. */
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { type Config, resolveConfig } from "../src/core/config.ts";
import { memoryLogger } from "../src/core/log.ts";
import { serveNode, type ServingNode } from "../src/cli/serve.ts";
import type { Clock } from "../src/core/clock.ts";
import { openDatabase } from "../src/store/database.ts";
import { migrate } from "../src/store/migrations.ts";
import { importRecords } from "../src/feeds/import.ts";
import { readLines } from "../src/core/lines.ts";
import { ORIGIN_LOCAL } from "../src/store/entries.ts";

/** The repository root. */
export const ROOT: string = new URL("..", import.meta.url).pathname;
/** The CLI entry. */
export const MAIN: string = join(ROOT, "src/main.ts");

/** A fresh temporary folder, removed when the returned `[Symbol.asyncDispose]` runs. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "pksn-test-" });
  return {
    path,
    async [Symbol.asyncDispose](): Promise<void> {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Runs `fn` on a migrated database in a fresh temporary folder, and closes it afterwards. */
export async function withDb<T>(fn: (db: DatabaseSync) => Promise<T> | T): Promise<T> {
  await using dir = await tempDir();
  const db = openDatabase(join(dir.path, "pksn.db"));
  try {
    migrate(db);
    return await fn(db);
  } finally {
    db.close();
  }
}

/**
 * Imports `records` as NDJSON into `db` (the mirror's, or local overrides for ORIGIN_LOCAL) and
 * checks the import committed; the index is the caller's to build.
 */
export async function importNdjson(
  db: DatabaseSync,
  records: unknown[],
  origin: 0 | 1,
): Promise<void> {
  const text = records.map((r) => JSON.stringify(r)).join("\n");
  const report = await importRecords(
    db,
    readLines(ReadableStream.from([new TextEncoder().encode(text)])),
    { format: "ndjson", origin, source: origin === ORIGIN_LOCAL ? "operator" : "mirror" },
  );
  if (!report.committed) throw new Error(`import failed: ${JSON.stringify(report.errors)}`);
}

/** A fixed clock that tests can move. */
export function fakeClock(
  start = Date.UTC(2026, 10, 28, 12, 0, 0),
): Clock & { set(ms: number): void } {
  let now = start;
  return { now: () => now, set: (ms) => (now = ms) };
}

/** A node serving on 127.0.0.1 port 0 over a temporary data folder. */
export interface TestNode extends AsyncDisposable {
  url: string;
  serving: ServingNode;
  logLines: string[];
  dataDir: string;
  config: Config;
}

/** Starts an in-process node; `demo` seeds the demo data; `records` are imported first (NDJSON lines). */
export async function startTestNode(
  options: { demo?: boolean; config?: Parameters<typeof resolveConfig>[0]; clock?: Clock } = {},
): Promise<TestNode> {
  const dir = await tempDir();
  // Look-up tests run without licence checks unless they ask for them (tests/licences do).
  const config = resolveConfig({
    ...options.config,
    auth: { required: false, ...options.config?.auth },
    dataDir: dir.path,
    listen: "127.0.0.1:0",
  });
  const log = memoryLogger();
  const serving = await serveNode(config, {
    clock: options.clock ?? fakeClock(),
    log,
    demo: options.demo ?? false,
  });
  return {
    url: serving.server.url,
    serving,
    logLines: log.lines,
    dataDir: dir.path,
    config,
    async [Symbol.asyncDispose](): Promise<void> {
      await serving.stop();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** Exit code and decoded output of a finished child process (pksn or another tool). */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The heap flags of deno.json's `start` task: what a served node runs with. */
export const SERVING_V8_FLAGS =
  "--v8-flags=--max-semi-space-size=1,--max-old-space-size=96,--no-allocation-site-pretenuring";

/**
 * `pksn ARGS` with the same Deno, from the repository root unless `cwd` says, output piped;
 * `serving` adds the heap limits a served node runs with, for tests of memory bounds.
 */
export function pksnCommand(
  args: string[],
  options: {
    env?: Record<string, string>;
    stdin?: "piped" | "null";
    cwd?: string;
    serving?: boolean;
  } = {},
): Deno.Command {
  const flags = options.serving ? [SERVING_V8_FLAGS] : [];
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "--allow-all", "--quiet", MAIN, ...args],
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `pksn ARGS` in a subprocess with the same Deno; `stdin` is piped in when given. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<CliResult> {
  const child = pksnCommand(args, {
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs a command (not pksn) and returns its exit code and output. */
export async function runTool(
  command: string,
  args: string[],
  cwd?: string,
): Promise<CliResult> {
  const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Writes NDJSON records to `dir/name` and returns the path. */
export async function writeNdjson(dir: string, name: string, records: unknown[]): Promise<string> {
  const path = join(dir, name);
  await Deno.writeTextFile(path, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}
