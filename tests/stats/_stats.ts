/** Plumbing for the statistics tests: a licensed node, records, and posting batches. */
import assert from "node:assert/strict";
import type { DatabaseSync } from "node:sqlite";
import { type Config, type ConfigLayer, DEFAULTS } from "../../src/core/config.ts";
import type { ClientMode } from "../../src/licences/mod.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { dayFile, openStats, type Stats } from "../../src/stats/mod.ts";
import { fakeClock, runTool, tempDir } from "../_helpers.ts";
import {
  acceptStatement,
  addLicence,
  type AuthNode,
  bearer,
  type JsonResponse,
  request,
  startAuthNode,
} from "../licences/_licences.ts";

export { type AuthNode, type JsonResponse } from "../licences/_licences.ts";

/** The fake clock's first day (tests/_helpers.ts starts it at noon on this date). */
export const DAY1 = "2026-11-28";
/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** A valid detection record; `overrides` replace or add fields. */
export function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    detectedAt: "2026-11-28T11:59:00Z",
    detectionType: "file",
    verdict: "malicious",
    decision: "blocked",
    threat: "Trojan.Win32.Example.a",
    md5: "44d88612fea8a8f36de82e1278abb02f",
    sha256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
    size: 68,
    fileType: "pe",
    productVersion: "21.3.10.391",
    databaseDate: "2026-11-27",
    statisticsVersion: 1,
    ...overrides,
  };
}

/** A `detectedAt` one minute before `ms`: a record the node's clock at `ms` finds plausible. */
export function detectedBefore(ms: number): string {
  return new Date(ms - 60_000).toISOString();
}

/** Starts a node with licence checks on and a fake clock; `config` adds settings. */
export async function startStatsNode(config: ConfigLayer = {}): Promise<AuthNode> {
  return await startAuthNode({ config });
}

/** Registers a licence whose client chose `mode` (accepting the statement); returns its key. */
export async function statsClient(
  node: AuthNode,
  mode: ClientMode = "with-statistics",
): Promise<string> {
  const key = await addLicence(node);
  await acceptStatement(node, key, mode);
  return key;
}

/** Options for {@link postStats}. */
export interface PostOptions {
  contentType?: string | null;
  idempotencyKey?: string;
  headers?: Record<string, string>;
}

/** POSTs a batch to `/v1/stats`: an array is sent as JSON, a string as it is. */
export async function postStats(
  node: AuthNode,
  key: string | undefined,
  body: unknown[] | string,
  options: PostOptions = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = {
    ...(key === undefined ? {} : bearer(key)),
    ...options.headers,
  };
  const contentType = options.contentType === undefined
    ? (typeof body === "string" ? "application/x-ndjson" : "application/json")
    : options.contentType;
  if (contentType !== null) headers["content-type"] = contentType;
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
  return await request(node, "/v1/stats", {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The records stored in the day file of `date`, parsed ([] when there is none). */
export async function dayRecords(
  dataDir: string,
  date: string,
): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(dayFile(`${dataDir}/stats`, date));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  assert.ok(text === "" || text.endsWith("\n"), "a day file ends with a newline");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

/** Unpacks the TAR at `path` with GNU tar into a temporary folder, removed on dispose. */
export async function extractWithTar(path: string): Promise<{ path: string } & AsyncDisposable> {
  const out = await tempDir();
  try {
    const extracted = await runTool("tar", ["-xf", path, "-C", out.path]);
    assert.equal(extracted.code, 0, extracted.stderr);
    return out;
  } catch (err) {
    await out[Symbol.asyncDispose]();
    throw err;
  }
}

/**
 * Reads the day archive at `path` with Python's tarfile, a reader other than ours,
 * and returns the JSON that `script` prints. The script sees `t` (the archive),
 * `m` (its manifest) and `lines` (the lines of `date`'s NDJSON file).
 */
export async function readWithPython<T>(path: string, date: string, script: string): Promise<T> {
  const python = await runTool("python3", [
    "-c",
    "import json,sys,tarfile\n" +
    "t=tarfile.open(sys.argv[1])\n" +
    "m=json.load(t.extractfile('manifest.json'))\n" +
    "lines=t.extractfile(sys.argv[2]+'.ndjson').read().decode().splitlines()\n" +
    script,
    path,
    date,
  ]);
  assert.equal(python.code, 0, python.stderr);
  return JSON.parse(python.stdout);
}

/** The statistics pipeline on its own over a temporary data folder, with a fake clock. */
export interface TestStats extends AsyncDisposable {
  stats: Stats;
  dataDir: string;
  db: DatabaseSync;
  clock: ReturnType<typeof fakeClock>;
  logLines: string[];
  /** Closes the pipeline and opens it again over the same folder (a restart). */
  reopen(): Promise<Stats>;
}

/** Opens the statistics of a fresh data folder (or `dataDir`) on a fake clock at `start`. */
export async function openTestStats(
  options: { start?: number; config?: Partial<Config["stats"]>; dataDir?: string } = {},
): Promise<TestStats> {
  const dir = options.dataDir === undefined ? await tempDir() : undefined;
  const dataDir = options.dataDir ?? dir!.path;
  const log = memoryLogger();
  const db = await openStore(dataDir, { cacheMiB: 8, log });
  const clock = fakeClock(options.start);
  const open = (): Promise<Stats> =>
    openStats({ dataDir, db, clock, log, config: { ...DEFAULTS.stats, ...options.config } });
  const target: TestStats = {
    stats: await open(),
    dataDir,
    db,
    clock,
    logLines: log.lines,
    async reopen(): Promise<Stats> {
      await target.stats.close();
      target.stats = await open();
      return target.stats;
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await target.stats.close();
      db.close();
      await dir?.[Symbol.asyncDispose]();
    },
  };
  return target;
}

/** Midday (UTC) of `date` in milliseconds. */
export function noon(date: string): number {
  return Date.parse(`${date}T12:00:00Z`);
}
