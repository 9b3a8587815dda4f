/** The bench's figures, its targets, the printed table and the machine it ran on. */
import type { FloorFigures } from "./floor.ts";
import { importFloorSeconds, type ImportFloorTimes } from "./import_floor.ts";
import type { LicenceCheckFigures } from "./licence_checks.ts";
import type { SourceState } from "./source.ts";
import type { WrkResult } from "./wrk.ts";

/** Where the figures were measured. */
export interface Machine {
  uname: string;
  cpuModel: string;
  cpus: number;
  memoryBytes: number;
  deno: string;
  v8: string;
}

/** A wrk run against the node, with its ratio to raw `Deno.serve`. */
export type NodeRun = WrkResult & { ratioToRaw: number };

/** Everything one bench run measured. */
export interface Figures {
  date: string;
  machine: Machine;
  source: SourceState & { changedDuringRun: boolean };
  settings: {
    records: number;
    seconds: number;
    connections: number;
    threads: number;
    /** Where the nodes' CPU profiles went (BENCH_PROFILE); null when they ran unprofiled. */
    cpuProfileDir: string | null;
    /** Which form of pksn ran (scripts/bench/program.ts); absent in older runs (source). */
    form?: "bundled" | "source";
  };
  dataset: { records: number; keys: number; bytes: number; byType: Record<string, number> };
  import: {
    wallSeconds: number;
    recordsPerSecond: number;
    keysPerSecond: number;
    /** The CLI's own closing line, which leaves out process start-up. */
    cli: { records: number; keys: number; seconds: number; recordsPerSecond: number } | null;
    /** The import's SQLite writes alone (import_floor.ts); absent in older runs. */
    floor?: ImportFloorTimes;
  };
  database: { bytes: number; walBytes: number; bytesPerMillionRecords: number };
  raw: WrkResult;
  single: { mixed: NodeRun & { hitShare: number }; hits: NodeRun };
  /** The mixed single look-ups through CIRCL hashlookup's route; absent in older runs. */
  hashlookup?: WrkResult & { ratioToV1: number };
  /** Mixed single look-ups with licence checks off and on; null when this pksn has none. */
  auth: LicenceCheckFigures | null;
  batch: WrkResult & { itemsPerRequest: number; objectsPerSecond: number; hitShare: number };
  /** The same workloads on a bare Deno.serve with the node's look-up engine; absent in older runs. */
  floor?: FloorFigures;
  node: {
    measuredAtRecords: number;
    rssPeakBytes: number;
    rssBytes: number;
    rssAfterStartBytes: number;
    /** VmHWM once ready: the index build's peak. */
    rssPeakAfterStartBytes: number;
    /** VmRSS after each wrk run, to show which one grew the process. */
    rssAfterRunBytes: { mixed: number; hits: number; batch: number };
    indexMillis: number | null;
    indexKeys: number | null;
    /** From spawn to /readyz: the first start (index built) and a restart (index saved). */
    start?: { readyMillis: number; indexFrom: string | null };
    restart?: {
      readyMillis: number;
      indexMillis: number | null;
      indexFrom: string | null;
      rssBytes?: number;
    };
    /** Whether look-ups ran with licence checks. */
    licenceChecks: string;
  };
}

/** One target and whether this run met it. */
export interface Verdict {
  name: string;
  target: string;
  pass: boolean;
}

/** The second round's targets (issue 14); RSS and ready times are defined at 10M records. */
export const TARGETS = {
  importPerSecond: 250_000,
  databaseBytesPerMillion: 70_000_000,
  singleToRaw: 0.85,
  hitsToRaw: 0.75,
  p99Ms: 2,
  batchPerSecond: 1_200_000,
  readyMillis: 1000,
  rssReadyBytes: 100_000_000,
  rssPeakBytes: 150_000_000,
  authOnToOff: 0.9,
} as const;

/** The records at which the RSS and ready-time targets are defined. */
export const FULL_SIZE = 10_000_000;

/** Single look-ups with licence checks on, the target's figure; null when this pksn has none. */
function licensed(f: Figures): WrkResult | null {
  return f.auth === null ? null : f.auth.on;
}

/** The figures' targets and whether this run met each. */
export function judge(f: Figures): Record<string, Verdict> {
  const t = TARGETS;
  const verdicts: Record<string, Verdict> = {
    import: {
      name: "import",
      target: `≥ ${int(t.importPerSecond)} records/s`,
      pass: f.import.recordsPerSecond >= t.importPerSecond,
    },
    database: {
      name: "database",
      target: `≤ ${mb(t.databaseBytesPerMillion)} per 1M records`,
      pass: f.database.bytesPerMillionRecords <= t.databaseBytesPerMillion,
    },
    hits: {
      name: "hits",
      target: `≥ ${t.hitsToRaw.toFixed(2)} × raw`,
      pass: f.single.hits.ratioToRaw >= t.hitsToRaw,
    },
    hitsP99: {
      name: "hitsP99",
      target: `p99 ≤ ${t.p99Ms} ms`,
      pass: f.single.hits.latencyMs.p99 <= t.p99Ms,
    },
    batch: {
      name: "batch",
      target: `≥ ${int(t.batchPerSecond)} objects/s`,
      pass: f.batch.objectsPerSecond >= t.batchPerSecond,
    },
    rssReady: {
      name: "rssReady",
      target: `≤ ${mb(t.rssReadyBytes)} ready at ${int(FULL_SIZE)}`,
      pass: f.node.rssAfterStartBytes <= t.rssReadyBytes,
    },
    rssPeak: {
      name: "rssPeak",
      target: `≤ ${mb(t.rssPeakBytes)} peak at ${int(FULL_SIZE)}`,
      pass: f.node.rssPeakBytes <= t.rssPeakBytes,
    },
  };
  const on = licensed(f);
  if (on !== null && f.auth !== null) {
    const ratio = on.requestsPerSecond / f.raw.requestsPerSecond;
    verdicts.single = {
      name: "single",
      target: `≥ ${t.singleToRaw.toFixed(2)} × raw`,
      // Error answers are fast: a run that got them did not measure licensed look-ups.
      pass: ratio >= t.singleToRaw && on.non2xx === 0,
    };
    verdicts.singleP99 = {
      name: "singleP99",
      target: `p99 ≤ ${t.p99Ms} ms`,
      pass: on.latencyMs.p99 <= t.p99Ms,
    };
    verdicts.auth = {
      name: "auth",
      target: `auth on ≥ ${t.authOnToOff.toFixed(2)} × auth off`,
      pass: f.auth.onToOff >= t.authOnToOff && on.non2xx === 0,
    };
  }
  const { start, restart } = f.node;
  if (start !== undefined) {
    verdicts.start = {
      name: "start",
      target: `ready ≤ ${int(t.readyMillis)} ms after start`,
      pass: start.readyMillis <= t.readyMillis,
    };
  }
  if (restart !== undefined) {
    verdicts.restart = {
      name: "restart",
      target: `ready ≤ ${int(t.readyMillis)} ms after a restart`,
      pass: restart.readyMillis <= t.readyMillis,
    };
  }
  return verdicts;
}

/** 1234567 → "1,234,567". */
export function int(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function ms(n: number): string {
  return `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function latency(r: WrkResult): string {
  return `p50 ${ms(r.latencyMs.p50)}, p99 ${ms(r.latencyMs.p99)}`;
}

function errors(r: WrkResult): string {
  const socket = Object.values(r.socketErrors).reduce((a, b) => a + b, 0);
  const parts = [];
  if (r.non2xx) parts.push(`${int(r.non2xx)} non-2xx`);
  if (socket) parts.push(`${int(socket)} socket errors`);
  return parts.length ? ` [${parts.join(", ")}]` : "";
}

/** Single look-ups with licence checks off and on: the on figure is the target's. */
function authRows(f: Figures, v: Record<string, Verdict>): Row[] {
  const auth = f.auth;
  if (auth === null || v.single === undefined) {
    return [["Look-up with licence checks on", "not in this pksn", "", ""]];
  }
  const best = `best of ${auth.rounds}`;
  const on = auth.on;
  return [
    [
      `Single look-up, ${pct(auth.hitShare)} hits, licence checks on (${best})`,
      `${int(on.requestsPerSecond)} req/s = ` +
      `${(on.requestsPerSecond / f.raw.requestsPerSecond).toFixed(2)} × raw${errors(on)}`,
      v.single.target,
      mark(v.single),
    ],
    ["  latency", latency(on), v.singleP99!.target, mark(v.singleP99!)],
    [
      `  same, licence checks off (${best})`,
      `${int(auth.off.requestsPerSecond)} req/s; on = ${auth.onToOff.toFixed(2)} × off, ` +
      `${latency(auth.off)}${errors(auth.off)}`,
      v.auth!.target,
      mark(v.auth!),
    ],
  ];
}

type Row = [string, string, string, string];

function mark(x: Verdict): string {
  return x.pass ? "PASS" : "MISS";
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** The human-readable table: measure, figure, target, PASS/MISS. */
export function renderTable(f: Figures): string {
  const v = judge(f);
  const cli = f.import.cli;
  // RSS and ready times are defined at 10M records: at fewer, the verdict is marked.
  const small = f.node.measuredAtRecords < FULL_SIZE ? "*" : "";
  const rows: Row[] = [
    [
      "Import, NDJSON (wall, incl. start-up)",
      `${int(f.import.recordsPerSecond)} records/s, ${int(f.import.keysPerSecond)} keys/s ` +
      `(${f.import.wallSeconds.toFixed(2)} s)`,
      v.import.target,
      mark(v.import),
    ],
    [
      "  the CLI's own line",
      cli ? `${int(cli.recordsPerSecond)} records/s (${cli.seconds.toFixed(2)} s)` : "not printed",
      "",
      "",
    ],
    ...importFloorRows(f),
    [
      "Database per 1M records",
      `${mb(f.database.bytesPerMillionRecords)} (${int(f.database.bytes + f.database.walBytes)} ` +
      `bytes for ${int(f.dataset.records)} records, ${int(f.dataset.keys)} keys)`,
      v.database.target,
      mark(v.database),
    ],
    [
      "Raw Deno.serve, fixed JSON answer",
      `${int(f.raw.requestsPerSecond)} req/s, ${latency(f.raw)}${errors(f.raw)}`,
      "",
      "",
    ],
    ...authRows(f, v),
    [
      `  same, licence checks off, first node`,
      `${int(f.single.mixed.requestsPerSecond)} req/s = ` +
      `${f.single.mixed.ratioToRaw.toFixed(2)} × raw, ${latency(f.single.mixed)}` +
      errors(f.single.mixed),
      "",
      "",
    ],
    [
      "Single look-up, 100% listed",
      `${int(f.single.hits.requestsPerSecond)} req/s = ` +
      `${f.single.hits.ratioToRaw.toFixed(2)} × raw${errors(f.single.hits)}`,
      v.hits.target,
      mark(v.hits),
    ],
    ["  latency", latency(f.single.hits), v.hitsP99.target, mark(v.hitsP99)],
    ...hashlookupRows(f),
    [
      `Batch look-up (${int(f.batch.itemsPerRequest)} items, ${pct(f.batch.hitShare)} hits)`,
      `${int(f.batch.objectsPerSecond)} objects/s (${f.batch.requestsPerSecond.toFixed(1)} req/s)` +
      errors(f.batch),
      v.batch.target,
      mark(v.batch),
    ],
    ["  latency", latency(f.batch), "", ""],
    [
      `Node RSS when ready (${int(f.node.measuredAtRecords)} records)`,
      `${mb(f.node.rssAfterStartBytes)} VmRSS (start-up peak ${mb(f.node.rssPeakAfterStartBytes)})`,
      v.rssReady.target,
      mark(v.rssReady) + small,
    ],
    [
      "Node peak RSS under load",
      `${mb(f.node.rssPeakBytes)} VmHWM (${mb(f.node.rssBytes)} VmRSS at end)`,
      v.rssPeak.target,
      mark(v.rssPeak) + small,
    ],
    [
      "  VmRSS after each run",
      `misses ${mb(f.node.rssAfterRunBytes.mixed)}, listed ${
        mb(f.node.rssAfterRunBytes.hits)
      }, batch ${mb(f.node.rssAfterRunBytes.batch)}`,
      "",
      "",
    ],
    ...startRows(f, v, small),
    ...floorRows(f),
  ];
  const header: Row = ["Measure", "Figure", "Target", "Result"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const m = f.machine;
  const s = f.settings;
  const out = [
    `pksn bench ${f.date}: ${m.cpuModel} × ${m.cpus}, ${mb(m.memoryBytes)} RAM, deno ${m.deno}`,
    `${int(s.records)} records; wrk -t${s.threads} -c${s.connections} -d${s.seconds}s, ` +
    `keep-alive, 127.0.0.1; pksn in its ${s.form ?? "source"} form; ` +
    `licence checks ${f.node.licenceChecks}; src sha256 ${f.source.srcSha256.slice(0, 12)}`,
    "",
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ];
  if (small) {
    out.push(
      `* RSS and ready times measured at ${int(f.node.measuredAtRecords)} records; ` +
        `their targets are defined at ${int(FULL_SIZE)} (run with --records ${FULL_SIZE})`,
    );
  }
  if (f.auth !== null) {
    const runs = (r: { runs: number[] }): string => r.runs.map(int).join(", ");
    out.push(
      `Licence checks: ${pct(f.auth.hitShare)} hits, a fresh node per run, ` +
        `${Array(f.auth.rounds).fill("off, on").join(", ")}; best of each shown ` +
        `(off ${runs(f.auth.off)} req/s; on ${runs(f.auth.on)} req/s)`,
    );
  }
  if (f.settings.cpuProfileDir !== null) {
    out.push(
      `! BENCH_PROFILE: the nodes ran under the CPU profiler (profiles in ` +
        `"${f.settings.cpuProfileDir}"), so their figures are lower than usual`,
    );
  }
  if (f.source.changedDuringRun) {
    out.push("! src/ changed while the bench ran: figures may mix two versions of the code");
  }
  return out.join("\n");
}

/** Describes this machine: `uname -a`, CPU model and count, memory, Deno version. */
export async function describeMachine(): Promise<Machine> {
  let uname: string;
  try {
    const out = await new Deno.Command("uname", { args: ["-a"], stdout: "piped" }).output();
    uname = new TextDecoder().decode(out.stdout).trim();
  } catch {
    uname = `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`;
  }
  let cpuModel = "unknown";
  let memoryBytes = 0;
  try {
    const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() ?? cpuModel;
    const meminfo = await Deno.readTextFile("/proc/meminfo");
    memoryBytes = Number(/^MemTotal:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0) * 1024;
  } catch {
    // Not Linux: the model stays unknown.
  }
  return {
    uname,
    cpuModel,
    cpus: navigator.hardwareConcurrency,
    memoryBytes,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

/** The hashlookup route's rows; its 404s are its answer for an unknown hash, not errors. */
function hashlookupRows(f: Figures): [string, string, string, string][] {
  const h = f.hashlookup;
  if (h === undefined) return [];
  const notFound = h.requests > 0 ? h.non2xx / h.requests : 0;
  return [
    [
      "Same look-ups, CIRCL hashlookup route",
      `${int(h.requestsPerSecond)} req/s = ${h.ratioToV1.toFixed(2)} × /v1 ` +
      `(${Math.round(notFound * 100)}% answered 404 "Non existing", its word for unknown)`,
      "",
      "",
    ],
    ["  latency", latency(h), "", ""],
  ];
}

/** The import floor's row: the rate of the import's SQLite writes alone, and their parts. */
function importFloorRows(f: Figures): Row[] {
  const floor = f.import.floor;
  if (floor === undefined) return [];
  const seconds = importFloorSeconds(floor);
  return [[
    "  the floor: its SQLite writes alone",
    `${int(f.dataset.records / seconds)} records/s (${seconds.toFixed(2)} s: ` +
    `write ${floor.writeSeconds.toFixed(2)}, key-order move ${floor.moveSeconds.toFixed(2)}, ` +
    `commit ${floor.commitSeconds.toFixed(2)})`,
    "",
    "",
  ]];
}

/**
 * The floor's rows, each beside the node's figure for the same workload: how far trimming what
 * surrounds the look-up (routing, metrics, limits) could take the node at most.
 */
function floorRows(f: Figures): Row[] {
  const floor = f.floor;
  if (floor === undefined) return [];
  const toRaw = (r: WrkResult): string =>
    (r.requestsPerSecond / f.raw.requestsPerSecond).toFixed(2);
  const run = (r: WrkResult, node: WrkResult | null): string =>
    `${int(r.requestsPerSecond)} req/s = ${toRaw(r)} × raw, ${latency(r)}${errors(r)}` +
    (node === null ? "" : `; node ${toRaw(node)} × raw`);
  const objects = floor.batch.requestsPerSecond * f.batch.itemsPerRequest;
  return [
    [
      "Floor: bare Deno.serve doing only",
      "the node's look-up engine, no routing/metrics/limits",
      "",
      "",
    ],
    ["  licence header compared, fixed answer", run(floor.licence, null), "", ""],
    ["  single look-up, 90% unknown, licensed", run(floor.mixed, licensed(f)), "", ""],
    ["  single look-up, 100% listed", run(floor.hits, f.single.hits), "", ""],
    [
      "  batch look-up",
      `${int(objects)} objects/s${errors(floor.batch)}; node ${int(f.batch.objectsPerSecond)}`,
      "",
      "",
    ],
    ...floorMemoryRows(f, floor),
  ];
}

/** The floor's memory beside the node's: what the runtime and the engine hold on their own. */
function floorMemoryRows(f: Figures, floor: FloorFigures): Row[] {
  if (floor.memory === undefined) return [];
  return [[
    "  memory: peak after its runs (when ready)",
    `${mb(floor.memory.peakBytes)} VmHWM (${mb(floor.memory.readyBytes)} VmRSS); ` +
    `node ${mb(f.node.rssPeakBytes)} (${mb(f.node.rssAfterStartBytes)})`,
    "",
    "",
  ]];
}

/** Start and restart to /readyz: the first start reads the index the import saved. */
function startRows(f: Figures, v: Record<string, Verdict>, small: string): Row[] {
  const { start, restart } = f.node;
  const rows: Row[] = [[
    "Index at start-up",
    f.node.indexMillis === null
      ? "not logged"
      : `${int(f.node.indexMillis)} ms for ${int(f.node.indexKeys ?? 0)} keys`,
    "",
    "",
  ]];
  if (start !== undefined && v.start !== undefined) {
    rows.push([
      "Ready after start (spawn to /readyz)",
      `${int(start.readyMillis)} ms, index ${start.indexFrom ?? "?"}`,
      v.start.target,
      mark(v.start) + small,
    ]);
  }
  if (restart !== undefined && v.restart !== undefined) {
    rows.push([
      "Ready after a restart",
      `${int(restart.readyMillis)} ms, index ${restart.indexFrom ?? "?"} in ${
        int(restart.indexMillis ?? 0)
      } ms` + (restart.rssBytes === undefined ? "" : `, VmRSS ${mb(restart.rssBytes)} when ready`),
      v.restart.target,
      mark(v.restart) + small,
    ]);
  }
  return rows;
}
