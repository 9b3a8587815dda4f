/** The bench's figures, its targets, the printed table and the machine it ran on. */
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
  };
  dataset: { records: number; keys: number; bytes: number; byType: Record<string, number> };
  import: {
    wallSeconds: number;
    recordsPerSecond: number;
    keysPerSecond: number;
    /** The CLI's own closing line, which leaves out process start-up. */
    cli: { records: number; keys: number; seconds: number; recordsPerSecond: number } | null;
  };
  database: { bytes: number; walBytes: number; bytesPerMillionRecords: number };
  raw: WrkResult;
  single: { mixed: NodeRun & { hitShare: number }; hits: NodeRun };
  /** The mixed single look-ups through CIRCL hashlookup's route; absent in older runs. */
  hashlookup?: WrkResult & { ratioToV1: number };
  /** Mixed single look-ups with licence checks off and on; null when this pksn has none. */
  auth: LicenceCheckFigures | null;
  batch: WrkResult & { itemsPerRequest: number; objectsPerSecond: number; hitShare: number };
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

/** The figures' targets; RSS is defined at 10M records and judged at whatever N ran. */
export function judge(f: Figures): Record<string, Verdict> {
  const auth: Record<string, Verdict> = f.auth === null ? {} : {
    auth: {
      name: "auth",
      target: "auth on ≥ 0.90 × auth off",
      // Error answers are fast: a run that got them did not measure licensed look-ups.
      pass: f.auth.onToOff >= 0.9 && f.auth.on.non2xx === 0,
    },
  };
  return {
    import: {
      name: "import",
      target: "≥ 200,000 records/s",
      pass: f.import.recordsPerSecond >= 200_000,
    },
    single: { name: "single", target: "≥ 0.60 × raw", pass: f.single.mixed.ratioToRaw >= 0.6 },
    singleP99: { name: "singleP99", target: "< 5 ms", pass: f.single.mixed.latencyMs.p99 < 5 },
    hitsP99: { name: "hitsP99", target: "< 5 ms", pass: f.single.hits.latencyMs.p99 < 5 },
    batch: {
      name: "batch",
      target: "≥ 500,000 objects/s",
      pass: f.batch.objectsPerSecond >= 500_000,
    },
    rss: {
      name: "rss",
      target: "≤ 200 MB at 10,000,000 records",
      pass: f.node.rssPeakBytes <= 200_000_000,
    },
    ...(f.node.restart === undefined ? {} : {
      restart: {
        name: "restart",
        target: "ready ≤ 1 s after a restart",
        pass: f.node.restart.readyMillis <= 1000,
      },
    }),
    ...auth,
  };
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

function authRows(
  auth: LicenceCheckFigures | null,
  verdict: Verdict | undefined,
): [string, string, string, string][] {
  if (auth === null || verdict === undefined) {
    return [["Look-up with licence checks on", "not in this pksn", "", ""]];
  }
  const best = `best of ${auth.rounds}`;
  return [
    [
      `Look-up, licence checks off (${best})`,
      `${int(auth.off.requestsPerSecond)} req/s, ${latency(auth.off)}${errors(auth.off)}`,
      "",
      "",
    ],
    [
      `Look-up with licence checks on (${best})`,
      `${int(auth.on.requestsPerSecond)} req/s = ${auth.onToOff.toFixed(2)} × auth off, ` +
      `${latency(auth.on)}${errors(auth.on)}`,
      verdict.target,
      verdict.pass ? "PASS" : "MISS",
    ],
  ];
}

/** The human-readable table: measure, figure, target, PASS/MISS. */
export function renderTable(f: Figures): string {
  const v = judge(f);
  const mark = (x: Verdict): string => (x.pass ? "PASS" : "MISS");
  const pct = (share: number): string => `${Math.round(share * 100)}%`;
  const cli = f.import.cli;
  const rows: [string, string, string, string][] = [
    [
      "Import (wall, incl. start-up)",
      `${int(f.import.recordsPerSecond)} records/s, ${int(f.import.keysPerSecond)} keys/s ` +
      `(${f.import.wallSeconds.toFixed(2)} s)`,
      v.import.target,
      mark(v.import),
    ],
    [
      "Import (CLI's own line)",
      cli ? `${int(cli.recordsPerSecond)} records/s (${cli.seconds.toFixed(2)} s)` : "not printed",
      "",
      "",
    ],
    [
      "Database per 1M records",
      `${mb(f.database.bytesPerMillionRecords)} (${int(f.database.bytes + f.database.walBytes)} ` +
      `bytes for ${int(f.dataset.records)} records, ${int(f.dataset.keys)} keys)`,
      "",
      "",
    ],
    [
      "Raw Deno.serve hello world",
      `${int(f.raw.requestsPerSecond)} req/s, ${latency(f.raw)}${errors(f.raw)}`,
      "",
      "",
    ],
    [
      `Single look-up, ${pct(f.single.mixed.hitShare)} hits`,
      `${int(f.single.mixed.requestsPerSecond)} req/s = ` +
      `${f.single.mixed.ratioToRaw.toFixed(2)} × raw${errors(f.single.mixed)}`,
      v.single.target,
      mark(v.single),
    ],
    ["  latency", latency(f.single.mixed), `p99 ${v.singleP99.target}`, mark(v.singleP99)],
    [
      "Single look-up, 100% hits",
      `${int(f.single.hits.requestsPerSecond)} req/s = ` +
      `${f.single.hits.ratioToRaw.toFixed(2)} × raw${errors(f.single.hits)}`,
      "",
      "",
    ],
    ["  latency", latency(f.single.hits), `p99 ${v.hitsP99.target}`, mark(v.hitsP99)],
    ...hashlookupRows(f),
    ...authRows(f.auth, v.auth),
    [
      `Batch look-up (${int(f.batch.itemsPerRequest)} items, ${pct(f.batch.hitShare)} hits)`,
      `${int(f.batch.objectsPerSecond)} objects/s (${f.batch.requestsPerSecond.toFixed(1)} req/s)` +
      errors(f.batch),
      v.batch.target,
      mark(v.batch),
    ],
    ["  latency", latency(f.batch), "", ""],
    [
      `Node peak RSS (${int(f.node.measuredAtRecords)} records)`,
      `${mb(f.node.rssPeakBytes)} VmHWM (${mb(f.node.rssBytes)} VmRSS at end)`,
      v.rss.target,
      mark(v.rss) + (f.node.measuredAtRecords < 10_000_000 ? "*" : ""),
    ],
    [
      "  VmRSS by phase",
      `ready ${mb(f.node.rssAfterStartBytes)} (peak ${mb(f.node.rssPeakAfterStartBytes)}), ` +
      `after misses ${mb(f.node.rssAfterRunBytes.mixed)}, hits ${
        mb(f.node.rssAfterRunBytes.hits)
      }, batch ${mb(f.node.rssAfterRunBytes.batch)}`,
      "",
      "",
    ],
    [
      "Index build at start-up",
      f.node.indexMillis === null
        ? "not logged"
        : `${int(f.node.indexMillis)} ms for ${int(f.node.indexKeys ?? 0)} keys`,
      "",
      "",
    ],
    ...startRows(f),
  ];
  const header: [string, string, string, string] = ["Measure", "Figure", "Target", "Result"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const m = f.machine;
  const s = f.settings;
  const out = [
    `pksn bench ${f.date}: ${m.cpuModel} × ${m.cpus}, ${mb(m.memoryBytes)} RAM, deno ${m.deno}`,
    `${int(s.records)} records; wrk -t${s.threads} -c${s.connections} -d${s.seconds}s, ` +
    `keep-alive, 127.0.0.1; licence checks ${f.node.licenceChecks}; ` +
    `src sha256 ${f.source.srcSha256.slice(0, 12)}`,
    "",
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ];
  if (f.node.measuredAtRecords < 10_000_000) {
    out.push(
      `* RSS measured at ${int(f.node.measuredAtRecords)} records; ` +
        "the target is defined at 10,000,000 (run with --records 10000000)",
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

/** Start and restart to /readyz: what reading the saved index saves. */
function startRows(f: Figures): [string, string, string, string][] {
  const { start, restart } = f.node;
  if (start === undefined || restart === undefined) return [];
  const verdict = judge(f).restart;
  return [
    [
      "Ready after start (spawn to /readyz)",
      `${int(start.readyMillis)} ms, index ${start.indexFrom ?? "?"}`,
      "",
      "",
    ],
    [
      "Ready after a restart",
      `${int(restart.readyMillis)} ms, index ${restart.indexFrom ?? "?"} in ${
        int(restart.indexMillis ?? 0)
      } ms` + (restart.rssBytes === undefined ? "" : `, VmRSS ${mb(restart.rssBytes)} when ready`),
      verdict?.target ?? "",
      verdict === undefined ? "" : verdict.pass ? "PASS" : "MISS",
    ],
  ];
}
