/**
 * The bench's measurements, one function each: the real CLI import, the database
 * size, raw `Deno.serve`, and the node under wrk. Every server runs as its own
 * `deno` process (spawned from `Deno.execPath()`, not through npx), so /proc
 * shows the node's own memory.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DEFAULTS } from "../../src/core/config.ts";
import { checkNode, type NodeCheck, pksn, type RunningNode, startNode } from "./node.ts";
import { memoryOf, start, waitForOk } from "./processes.ts";
import { runWrk, type WrkOptions, type WrkResult } from "./wrk.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
const HERE = import.meta.dirname!;
const DENO = Deno.execPath();

/** Where the bench keeps its files. */
export interface Paths {
  records: string;
  data: string;
  mixedPaths: string;
  hitPaths: string;
  bodies: string;
}

/** wrk settings shared by every run. */
export interface Load {
  wrk: string;
  seconds: number;
  threads: number;
  connections: number;
}

/** Logs progress to stderr, so stdout holds only the results. */
export function progress(message: string): void {
  console.error(`bench: ${message}`);
}

/** Result of timing `pksn import`. */
export interface ImportRun {
  wallSeconds: number;
  cli: { records: number; keys: number; seconds: number; recordsPerSecond: number } | null;
}

/** Times `pksn import FILE --data DIR` (see program.ts) from spawn to exit. */
export async function timeImport(paths: Paths, records: number): Promise<ImportRun> {
  const { code, output, millis } = await pksn(
    ["import", paths.records, "--data", paths.data],
    120_000 + records / 10,
  );
  if (code !== 0) throw new Error(`pksn import exited with ${code}:\n${output.slice(-4000)}`);
  const m = /Imported (\d+) records \((\d+) keys\) .* in ([\d.]+) s \((\d+) records\/s\)/.exec(
    output,
  );
  return {
    wallSeconds: millis / 1000,
    cli: m
      ? {
        records: Number(m[1]),
        keys: Number(m[2]),
        seconds: Number(m[3]),
        recordsPerSecond: Number(m[4]),
      }
      : null,
  };
}

/** Checkpoints the WAL into the database, then measures the files. */
export async function measureDatabase(
  dataDir: string,
): Promise<{ bytes: number; walBytes: number }> {
  const path = join(dataDir, "pksn.db");
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
  const size = async (p: string): Promise<number> => {
    try {
      return (await Deno.stat(p)).size;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return 0;
      throw err;
    }
  };
  return { bytes: await size(path), walBytes: await size(`${path}-wal`) };
}

/** Runs wrk once briefly to warm the server's JIT, then measures. */
export async function warmAndMeasure(
  load: Load,
  options: Omit<WrkOptions, keyof Load>,
): Promise<WrkResult> {
  const base = { threads: load.threads, connections: load.connections };
  await runWrk(load.wrk, { ...base, ...options, seconds: Math.min(2, load.seconds) });
  return await runWrk(load.wrk, { ...base, ...options, seconds: load.seconds });
}

/** wrk against scripts/bench/hello_server.ts: what Deno.serve alone can do here. */
export async function measureRaw(load: Load): Promise<WrkResult> {
  const hello = start("hello server", [DENO, "run", "-A", join(HERE, "hello_server.ts"), "0"], {
    cwd: ROOT,
  });
  try {
    const [, url] = await hello.waitFor(/hello listening on (http:\/\/\S+)/, 30_000);
    await waitForOk(`${url}/`, 10_000);
    progress(`raw Deno.serve at ${url}, wrk ${load.seconds} s`);
    return await warmAndMeasure(load, { url: `${url}/` });
  } finally {
    await hello.stop();
  }
}

/**
 * The node's config file for the bench, or null when this pksn has no setting to
 * change. Licence checks are turned off where pksn has them: the bench measures
 * look-ups, and the config documents `auth.required: false` as the way to benchmark.
 */
export async function writeNodeConfig(path: string): Promise<string | null> {
  if (!("auth" in DEFAULTS)) return null;
  await Deno.writeTextFile(path, JSON.stringify({ auth: { required: false } }, null, 2) + "\n");
  return path;
}

/** The node's wrk runs and its resident memory (VmRSS, bytes) after each. */
export interface NodeLoad {
  mixed: WrkResult;
  hits: WrkResult;
  /** The mixed run's hashes asked through the CIRCL hashlookup route instead of /v1/files. */
  hashlookup: WrkResult;
  batch: WrkResult;
  rssAfter: { mixed: number; hits: number; batch: number };
}

/** The node under wrk: mixed single look-ups, all-hit single look-ups, then batches. */
async function loadNode(
  load: Load,
  node: RunningNode,
  paths: Paths,
): Promise<NodeLoad> {
  const script = (name: string): string => join(HERE, name);
  progress(`node single look-ups (mostly misses), wrk ${load.seconds} s`);
  const mixed = await warmAndMeasure(load, {
    url: node.url,
    script: script("get_paths.lua"),
    scriptArgs: [paths.mixedPaths],
  });
  const afterMixed = (await memoryOf(node.child.pid)).rss;
  progress(`node single look-ups (all hits), wrk ${load.seconds} s`);
  const hits = await warmAndMeasure(load, {
    url: node.url,
    script: script("get_paths.lua"),
    scriptArgs: [paths.hitPaths],
  });
  const afterHits = (await memoryOf(node.child.pid)).rss;
  progress(`node single look-ups through CIRCL hashlookup's route, wrk ${load.seconds} s`);
  const hashlookupPaths = `${paths.mixedPaths}.hashlookup`;
  await Deno.writeTextFile(
    hashlookupPaths,
    hashlookupOf(await Deno.readTextFile(paths.mixedPaths)),
  );
  const hashlookup = await warmAndMeasure(load, {
    url: node.url,
    script: script("get_paths.lua"),
    scriptArgs: [hashlookupPaths],
  });
  progress(`node batch look-ups, wrk ${load.seconds} s`);
  const batch = await warmAndMeasure(load, {
    url: node.url,
    script: script("post_bodies.lua"),
    scriptArgs: [paths.bodies],
  });
  const afterBatch = (await memoryOf(node.child.pid)).rss;
  return {
    mixed,
    hits,
    hashlookup,
    batch,
    rssAfter: { mixed: afterMixed, hits: afterHits, batch: afterBatch },
  };
}

/** `/v1/files/H` paths as hashlookup's `/lookup/md5|sha1|sha256/H`, by the hash's length. */
function hashlookupOf(v1Paths: string): string {
  const kind: Record<number, string> = { 32: "md5", 40: "sha1", 64: "sha256" };
  return v1Paths.replace(
    /^\/v1\/files\/([0-9a-f]+)$/gm,
    (whole, hash: string) => kind[hash.length] ? `/lookup/${kind[hash.length]}/${hash}` : whole,
  );
}

/** What {@link measureNode} found. */
export interface NodeFigures {
  load: NodeLoad;
  /** Hit share of one batch body, as the node answered it. */
  batchHitShare: number;
  memoryAfterStart: { hwm: number; rss: number };
  memoryAtEnd: { hwm: number; rss: number };
  indexMillis: number | null;
  indexKeys: number | null;
  /** The first start (which builds the index) and a restart (which may read it from disk). */
  start: { readyMillis: number; indexFrom: string | null };
  restart: {
    readyMillis: number;
    indexMillis: number | null;
    indexFrom: string | null;
    rssBytes: number;
  };
}

/**
 * Starts the node, checks its answers, loads it with wrk, reads its memory and stops it; then
 * starts it once more on the same data to time a restart.
 */
export async function measureNode(
  load: Load,
  paths: Paths,
  options: { records: number; config: string | null; check: NodeCheck },
): Promise<NodeFigures> {
  const node = await startNode(paths.data, { ...options, label: "node" });
  let figures: Omit<NodeFigures, "restart">;
  try {
    const memoryAfterStart = await memoryOf(node.child.pid);
    const batchHitShare = await checkNode(node.url, options.check);
    const loaded = await loadNode(load, node, paths);
    figures = {
      load: loaded,
      batchHitShare,
      memoryAfterStart,
      memoryAtEnd: await memoryOf(node.child.pid),
      indexMillis: node.indexMillis,
      indexKeys: node.indexKeys,
      start: { readyMillis: node.readyMillis, indexFrom: node.indexFrom },
    };
  } finally {
    await node.child.stop();
  }
  progress("restarting the node on the same data");
  const again = await startNode(paths.data, { ...options, label: "restart" });
  const restartMemory = await memoryOf(again.child.pid);
  await again.child.stop();
  return {
    ...figures,
    restart: {
      readyMillis: again.readyMillis,
      indexMillis: again.indexMillis,
      indexFrom: again.indexFrom,
      rssBytes: restartMemory.rss,
    },
  };
}
