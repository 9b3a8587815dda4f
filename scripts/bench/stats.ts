/**
 * Statistics ingestion under load: a fresh node with licence checks on, a client
 * whose participation is "with-statistics", and several connections POSTing
 * batches of 1,000 records to /v1/stats. Every 202 means the records were
 * fsynced, so the figure is records/s with durability on. Afterwards the day
 * files must hold exactly the records the node acknowledged.
 */
import { join } from "node:path";
import { BENCH_KEY, registerLicence } from "./licence_checks.ts";
import { startNode } from "./node.ts";
import { Random } from "./random.ts";
import { progress } from "./steps.ts";

/** What the statistics step measured. */
export interface StatsFigures {
  batchRecords: number;
  connections: number;
  seconds: number;
  batches: number;
  records: number;
  recordsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  /** Lines in the day files after the run: every acknowledged record, warm-up included. */
  storedRecords: number;
  acknowledgedRecords: number;
}

/** The statistics target. */
export const STATS_TARGET = "≥ 50,000 records/s";

const BATCH_RECORDS = 1000;
const BODIES = 8;
const CONNECTIONS = 8;
const AUTHORIZATION = `Bearer ${BENCH_KEY}`;
const VERDICTS = ["malicious", "malicious", "suspicious", "adware", "phishing", "clean"];
const THREATS = ["Trojan.Win32.Agent.a", "HEUR:Trojan.Script.Generic", "Adware.Win32.Toolbar"];

/** Whether the figures meet {@link STATS_TARGET}, with every record accounted for. */
export function statsPass(f: StatsFigures): boolean {
  return f.recordsPerSecond >= 50_000 && f.storedRecords === f.acknowledgedRecords;
}

/** The table row: measure, figure, target, result. */
export function statsRow(f: StatsFigures): [string, string, string, string] {
  const int = (n: number): string => Math.round(n).toLocaleString("en-US");
  const lost = f.storedRecords === f.acknowledgedRecords
    ? ""
    : ` [stored ${int(f.storedRecords)} of ${int(f.acknowledgedRecords)} acknowledged]`;
  return [
    `Statistics ingestion (${int(f.batchRecords)} records a batch, fsync before 202)`,
    `${int(f.recordsPerSecond)} records/s, p50 ${f.latencyMs.p50.toFixed(1)} ms, ` +
    `p99 ${f.latencyMs.p99.toFixed(1)} ms (${f.connections} connections)${lost}`,
    STATS_TARGET,
    statsPass(f) ? "PASS" : "MISS",
  ];
}

function record(random: Random): Record<string, unknown> {
  const verdict = random.pick(VERDICTS);
  return {
    // Within the last day: the node refuses times implausibly far from its clock.
    detectedAt: new Date(Date.now() - random.below(86_400) * 1000).toISOString(),
    detectionType: "file",
    verdict,
    decision: verdict === "clean" ? "allowed" : "blocked",
    ...(verdict === "clean" ? {} : { threat: random.pick(THREATS) }),
    md5: random.hex(16),
    sha256: random.hex(32),
    size: random.below(50_000_000),
    fileType: "pe",
    // Reduced to "exe" and to scheme, host and path by the node: the work real clients cause.
    filePath: `C:\\Users\\user${random.below(1000)}\\Downloads\\setup${random.below(100)}.exe`,
    url: `https://cdn${random.below(100)}.example/dl/${random.hex(4)}.exe?s=${random.hex(8)}`,
    productVersion: "21.3.10.391",
    databaseDate: "2026-11-27",
    statisticsVersion: 1,
  };
}

/** Batch bodies, encoded once so the client spends as little of the shared CPUs as it can. */
function bodies(): Uint8Array<ArrayBuffer>[] {
  const random = new Random(11);
  const encoder = new TextEncoder();
  return Array.from({ length: BODIES }, () => {
    const records = Array.from({ length: BATCH_RECORDS }, () => record(random));
    return encoder.encode(JSON.stringify(records));
  });
}

async function acceptWithStatistics(url: string): Promise<void> {
  const statement = await (await fetch(`${url}/v1/statement`)).json();
  const res = await fetch(`${url}/v1/participation`, {
    method: "POST",
    headers: { authorization: AUTHORIZATION, "content-type": "application/json" },
    body: JSON.stringify({ mode: "with-statistics", statementVersion: statement.version }),
  });
  const answer = await res.json();
  if (res.status !== 200) {
    throw new Error(`POST /v1/participation: ${res.status} ${JSON.stringify(answer)}`);
  }
}

async function post(url: string, body: Uint8Array<ArrayBuffer>): Promise<number> {
  const res = await fetch(`${url}/v1/stats`, {
    method: "POST",
    headers: { authorization: AUTHORIZATION, "content-type": "application/json" },
    body,
  });
  const answer = await res.json();
  if (res.status !== 202 || answer.rejected !== 0) {
    throw new Error(`POST /v1/stats: ${res.status} ${JSON.stringify(answer).slice(0, 500)}`);
  }
  return answer.accepted;
}

/** `connections` loops POSTing batches for `seconds`; returns records and per-batch latencies. */
async function load(
  url: string,
  payloads: Uint8Array<ArrayBuffer>[],
  seconds: number,
  connections: number,
): Promise<{ records: number; latencies: number[]; elapsed: number }> {
  const started = performance.now();
  const end = started + seconds * 1000;
  const latencies: number[] = [];
  let records = 0;
  await Promise.all(Array.from({ length: connections }, async (_, c) => {
    for (let i = c; performance.now() < end; i += connections) {
      const sent = performance.now();
      const accepted = await post(url, payloads[i % payloads.length]);
      records += accepted;
      latencies.push(performance.now() - sent);
    }
  }));
  return { records, latencies, elapsed: (performance.now() - started) / 1000 };
}

async function storedLines(dataDir: string): Promise<number> {
  let lines = 0;
  for await (const entry of Deno.readDir(join(dataDir, "stats"))) {
    if (!entry.isFile || !entry.name.endsWith(".ndjson")) continue;
    const bytes = await Deno.readFile(join(dataDir, "stats", entry.name));
    for (let at = bytes.indexOf(10); at !== -1; at = bytes.indexOf(10, at + 1)) lines++;
  }
  return lines;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Runs the statistics step in `dir` (a fresh data folder) for `seconds`. */
export async function measureStats(dir: string, seconds: number): Promise<StatsFigures> {
  const dataDir = join(dir, "stats_data");
  progress("statistics: registering a licence with the CLI");
  await registerLicence(dataDir);
  const node = await startNode(dataDir, { records: 0, config: null, label: "stats" });
  try {
    await acceptWithStatistics(node.url);
    const payloads = bodies();
    await post(node.url, payloads[0]);
    progress(`statistics ingestion, ${CONNECTIONS} connections, ${seconds} s`);
    const warm = await load(node.url, payloads, Math.min(2, seconds), CONNECTIONS);
    const run = await load(node.url, payloads, seconds, CONNECTIONS);
    const sorted = run.latencies.sort((a, b) => a - b);
    return {
      batchRecords: BATCH_RECORDS,
      connections: CONNECTIONS,
      seconds: run.elapsed,
      batches: run.latencies.length,
      records: run.records,
      recordsPerSecond: run.records / run.elapsed,
      latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) },
      storedRecords: await storedLines(dataDir),
      acknowledgedRecords: BATCH_RECORDS + warm.records + run.records,
    };
  } finally {
    await node.child.stop();
  }
}
