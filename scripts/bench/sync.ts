/**
 * Mirror sync: an origin publishes a 1M-record feed (MD5 file records), a plain
 * file server on 127.0.0.1 serves it, and `pksn sync` (its own process, with the
 * serving heap flags) applies the full snapshot; then a 100k-change delta.
 * The apply rates come from the node's own "Mirror is at version" log lines,
 * which time the apply alone; the wall times include download and checks.
 * The same delta is then applied by a serving node (`serve` with a sync
 * config, a copy of the node at version 1): its log line also carries the
 * longest event-loop stall it measured in itself while it applied, which is
 * how long a look-up could have waited.
 */
import { join } from "node:path";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { EntryRepository, type EntryRow } from "../../src/store/entries.ts";
import { digestKeyFromHex } from "../../src/reputation/keys.ts";
import { initRoot } from "../../src/feed/feed_root.ts";
import { buildVersion } from "../../src/feed/publisher.ts";
import { generateKeyFile, parseKeyFile } from "../../src/feed/signing.ts";
import { OP_ADD } from "../../src/feed/stream_format.ts";
import { StreamWriter } from "../../src/feed/stream_writer.ts";
import { pksnCommand } from "./node.ts";
import { memoryOf, start } from "./processes.ts";
import { Random } from "./random.ts";
import { progress } from "./steps.ts";

/** What the sync step measured. */
export interface SyncFigures {
  records: number;
  publishSeconds: number;
  snapshot: ApplyFigures;
  delta: ApplyFigures & { changes: { added: number; updated: number; removed: number } };
  /** Snapshot bytes per record: MD5-keyed file records with a first-seen date. */
  bytesPerMd5Record: number;
  /** The same for SHA-256-keyed file records. */
  bytesPerSha256Record: number;
  /** Peak RSS of the `pksn sync` process across both runs. */
  rssPeakBytes: number;
  /** The delta applied by a serving node. */
  serving: ServingApplyFigures;
}

/** A serving node's apply of the delta, from its log line. */
export interface ServingApplyFigures {
  records: number;
  applyMillis: number;
  recordsPerSecond: number;
  /** The longest event-loop stall the node measured while it applied. */
  stallMillis: number;
  /** Where it applied: "worker", or "main" if no worker could start. */
  thread: string;
  /** The same over the whole run: download, checks, apply and the index rebuild after it. */
  runStallMillis: number;
}

interface ApplyFigures {
  records: number;
  fileBytes: number;
  applyMillis: number;
  recordsPerSecond: number;
  wallMillis: number;
}

/** The sync targets. */
export const SYNC_TARGET = {
  applyPerSecond: 200_000,
  deltaPerSecond: 300_000,
  /** The longest event-loop stall a serving node may have while it applies. */
  stallMillis: 50,
  bytesPerFileRecord: 24,
};

const ROOT = join(import.meta.dirname!, "..", "..");
const THREATS = ["Trojan.Win32.Agent.a", "HEUR:Trojan.Script.Generic", "Adware.Win32.Toolbar"];
const T0 = 1_764_000_000;

/** Whether the apply rates, the serving stall and the MD5 record size meet {@link SYNC_TARGET}. */
export function syncPass(f: SyncFigures): boolean {
  return f.snapshot.recordsPerSecond >= SYNC_TARGET.applyPerSecond &&
    f.delta.recordsPerSecond >= SYNC_TARGET.deltaPerSecond &&
    f.serving.stallMillis <= SYNC_TARGET.stallMillis &&
    f.bytesPerMd5Record <= SYNC_TARGET.bytesPerFileRecord;
}

/** Table rows: measure, figure, target, result. */
export function syncRows(f: SyncFigures): [string, string, string, string][] {
  const int = (n: number): string => Math.round(n).toLocaleString("en-US");
  const mark = (ok: boolean): string => ok ? "met" : "NOT MET";
  const rate = SYNC_TARGET.applyPerSecond;
  return [
    [
      `Sync: apply a ${int(f.snapshot.records)}-record snapshot`,
      `${int(f.snapshot.recordsPerSecond)} records/s (wall ${int(f.snapshot.wallMillis)} ms)`,
      `≥ ${int(rate)}`,
      mark(f.snapshot.recordsPerSecond >= rate),
    ],
    [
      `Sync: apply a ${int(f.delta.records)}-change delta`,
      `${int(f.delta.recordsPerSecond)} changes/s (wall ${int(f.delta.wallMillis)} ms)`,
      `≥ ${int(SYNC_TARGET.deltaPerSecond)}`,
      mark(f.delta.recordsPerSecond >= SYNC_TARGET.deltaPerSecond),
    ],
    [
      `Sync: a serving node applies the ${int(f.serving.records)}-change delta`,
      `longest event-loop block during the apply: ${int(f.serving.stallMillis)} ms ` +
      `(${int(f.serving.recordsPerSecond)} changes/s on the ${f.serving.thread} thread)`,
      `≤ ${int(SYNC_TARGET.stallMillis)} ms`,
      mark(f.serving.stallMillis <= SYNC_TARGET.stallMillis),
    ],
    [
      "Sync: the same serving node over its whole run (download, apply, index rebuild)",
      `longest event-loop block: ${int(f.serving.runStallMillis)} ms`,
      "",
      "",
    ],
    [
      "Sync: feed bytes per file-hash record (MD5 / SHA-256)",
      `${f.bytesPerMd5Record.toFixed(1)} / ${f.bytesPerSha256Record.toFixed(1)}`,
      `≤ ${SYNC_TARGET.bytesPerFileRecord}`,
      f.bytesPerMd5Record <= SYNC_TARGET.bytesPerFileRecord
        ? (f.bytesPerSha256Record <= SYNC_TARGET.bytesPerFileRecord ? "met" : "met for MD5 only")
        : "NOT MET",
    ],
    [
      "Sync: peak RSS of pksn sync",
      `${int(f.rssPeakBytes / 1e6)} MB`,
      "",
      "",
    ],
  ];
}

function fileRow(random: Random, i: number): Omit<EntryRow, "key"> {
  return {
    origin: 0,
    verdict: 2 + random.below(4),
    threat: random.below(4) === 0 ? null : THREATS[random.below(THREATS.length)],
    categories: null,
    first_seen: T0 - random.below(86_400 * 365),
    last_seen: null,
    ttl: null,
    source: i % 2 ? "bench-a" : "bench-b",
  };
}

/** Runs the sync step in `dir`. */
export async function measureSync(dir: string, records: number): Promise<SyncFigures> {
  const log = memoryLogger();
  const work = join(dir, "sync");
  const source = await openStore(join(work, "source"), { cacheMiB: 256, log });
  const state = await openStore(join(work, "state"), { cacheMiB: 256, log });
  const tree = join(work, "tree");
  const key = await parseKeyFile(JSON.stringify(await generateKeyFile()), "bench key");
  await initRoot(tree, {
    signers: [key],
    rootThreshold: 1,
    timestampRole: { keys: [key], threshold: 1 },
    expires: Date.now() + 86_400_000 * 365,
  });
  const random = new Random(11);
  const digests: string[] = [];
  progress(`sync: writing ${records.toLocaleString("en-US")} MD5 file records into the origin`);
  const entries = new EntryRepository(source);
  source.exec("BEGIN");
  for (let i = 0; i < records; i++) {
    const md5 = random.hex(16);
    digests.push(md5);
    entries.upsert({ key: digestKeyFromHex("file", md5), ...fileRow(random, i) });
  }
  source.exec("COMMIT");
  const build = (): ReturnType<typeof buildVersion> =>
    buildVersion({
      out: tree,
      state,
      source,
      timestampKeys: [key],
      now: Date.now(),
      snapshotEvery: 100,
      deltaRetentionSeconds: 86_400,
      expiresSeconds: 86_400,
      minPollSeconds: 0,
    });
  progress("sync: publishing version 1 (full snapshot)");
  const started = performance.now();
  const v1 = await build();
  const publishSeconds = (performance.now() - started) / 1000;

  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const name = decodeURIComponent(new URL(req.url).pathname.slice(1));
    try {
      return new Response((await Deno.open(join(tree, name))).readable);
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/`;
    const config = join(work, "node.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({ dataDir: join(work, "node"), sync: { url, root: join(tree, "root.json") } }),
    );
    progress("sync: pksn sync applies the snapshot");
    const first = await runSync(config);
    // A serving node at version 1 for the delta, without applying the snapshot again.
    const servingDir = join(work, "serving");
    await copyFolder(join(work, "node"), servingDir);
    const servingConfig = join(work, "serving.json");
    await Deno.writeTextFile(
      servingConfig,
      JSON.stringify({
        dataDir: servingDir,
        sync: { url, root: join(tree, "root.json"), firstPollMaxSeconds: 0 },
      }),
    );

    progress("sync: publishing version 2 (a 100k-change delta)");
    const changes = { added: 25_000, updated: 50_000, removed: 25_000 };
    source.exec("BEGIN");
    for (let i = 0; i < changes.updated; i++) {
      const md5 = digests[i * 2];
      entries.upsert({ key: digestKeyFromHex("file", md5), ...fileRow(random, i), verdict: 5 });
    }
    for (let i = 0; i < changes.removed; i++) {
      entries.delete(digestKeyFromHex("file", digests[i * 2 + 1]), 0);
    }
    for (let i = 0; i < changes.added; i++) {
      entries.upsert({ key: digestKeyFromHex("file", random.hex(16)), ...fileRow(random, i) });
    }
    source.exec("COMMIT");
    const v2 = await build();
    const second = await runSync(config);
    progress("sync: a serving node applies the delta");
    const serving = await servingApply(servingConfig);
    return {
      records: v1.records,
      publishSeconds,
      snapshot: { ...first, fileBytes: v1.snapshotBytes ?? 0 },
      delta: { ...second, fileBytes: v2.deltaBytes ?? 0, changes },
      bytesPerMd5Record: (v1.snapshotBytes ?? 0) / v1.records,
      bytesPerSha256Record: sha256BytesPerRecord(random),
      rssPeakBytes: Math.max(first.rssPeakBytes, second.rssPeakBytes),
      serving,
    };
  } finally {
    await server.shutdown();
    source.close();
    state.close();
  }
}

/** Bytes per record of a 100k-record snapshot of SHA-256-keyed file records. */
function sha256BytesPerRecord(random: Random): number {
  const keys = Array.from({ length: 100_000 }, () => digestKeyFromHex("file", random.hex(32)));
  keys.sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  });
  const writer = new StreamWriter("snapshot");
  for (const [i, key] of keys.entries()) {
    const row = fileRow(random, i);
    writer.add({
      op: OP_ADD,
      key,
      attr: writer.attribute(row),
      firstSeen: row.first_seen,
      lastSeen: null,
      replaces: null,
    });
  }
  const chunks = writer.finish({
    version: 1,
    fromVersion: 0,
    baseChecksum: "0".repeat(16),
    checksum: "0".repeat(16),
  });
  return chunks.reduce((n, c) => n + c.length, 0) / keys.length;
}

async function runSync(
  config: string,
): Promise<Omit<ApplyFigures, "fileBytes"> & { rssPeakBytes: number }> {
  const started = performance.now();
  const child = start("pksn sync", await pksnCommand(["sync", "--config", config]), {
    cwd: ROOT,
    env: { PKSN_LOG_LEVEL: "info", NO_COLOR: "1" },
  });
  let rssPeakBytes = 0;
  const sampler = setInterval(async () => {
    try {
      rssPeakBytes = Math.max(rssPeakBytes, (await memoryOf(child.pid)).hwm);
    } catch { /* exited */ }
  }, 100);
  const code = await child.exited;
  clearInterval(sampler);
  const wallMillis = performance.now() - started;
  const output = child.output();
  if (code !== 0) throw new Error(`pksn sync exited ${code}:\n${output.slice(-2000)}`);
  const lines = [
    ...output.matchAll(/Mirror is at version \d+ via=\w+ records=(\d+) millis=(\d+)/g),
  ];
  if (lines.length === 0) {
    throw new Error(`pksn sync did not log its apply:\n${output.slice(-2000)}`);
  }
  const records = lines.reduce((n, m) => n + Number(m[1]), 0);
  const applyMillis = lines.reduce((n, m) => n + Number(m[2]), 0);
  return {
    records,
    applyMillis,
    recordsPerSecond: records / (applyMillis / 1000),
    wallMillis,
    rssPeakBytes,
  };
}

/** Copies a node's data folder (the database and its sync folder) as `pksn sync` left it. */
async function copyFolder(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (!out.success) throw new Error(`cp -a ${from} ${to} failed (exit ${out.code})`);
}

/**
 * Starts `pksn serve` with a sync config whose first poll is at once, waits for
 * its apply's log line, and stops it.
 */
async function servingApply(config: string): Promise<ServingApplyFigures> {
  const child = start(
    "pksn serve",
    await pksnCommand(["serve", "--config", config, "--listen", "127.0.0.1:0"]),
    { cwd: ROOT, env: { PKSN_LOG_LEVEL: "info", PKSN_CONFIG: "", NO_COLOR: "1" } },
  );
  try {
    const m = await child.waitFor(
      /Mirror is at version \d+ via=delta records=(\d+) millis=(\d+) stallMillis=(\d+) thread=(\w+)|Sync failed.*$/m,
      300_000,
    );
    if (m[1] === undefined) throw new Error(`The serving node's sync failed: ${m[0]}`);
    const run = await child.waitFor(
      /Synced mirror from version \d+ to \d+ .*stallMillis=(\d+)/,
      120_000,
    );
    const records = Number(m[1]);
    const applyMillis = Number(m[2]);
    return {
      records,
      applyMillis,
      recordsPerSecond: records / (applyMillis / 1000),
      stallMillis: Number(m[3]),
      thread: m[4],
      runStallMillis: Number(run[1]),
    };
  } finally {
    await child.stop();
  }
}
