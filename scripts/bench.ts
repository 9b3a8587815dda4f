/**
 * `deno task bench`: one run that measures import speed, database size, raw
 * `Deno.serve`, the node's single and batch look-ups under wrk, single look-ups
 * with licence checks off and on, the node's memory and statistics ingestion,
 * then prints a table with targets and a `BENCH_JSON {...}` line.
 * Load goes to 127.0.0.1 only; every child process is stopped on exit or error.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { writeDataset } from "./bench/dataset.ts";
import { compareLicenceChecks, registerLicence } from "./bench/licence_checks.ts";
import { measureFloor } from "./bench/floor.ts";
import { measureImportFloor } from "./bench/import_floor.ts";
import { profileDir, serveV8Flags } from "./bench/node.ts";
import { prepareProgram, type Program } from "./bench/program.ts";
import { killAll, stopAll } from "./bench/processes.ts";
import { describeMachine, type Figures, int, judge, renderTable } from "./bench/report.ts";
import { Random } from "./bench/random.ts";
import { describeSource } from "./bench/source.ts";
import {
  measureStats,
  STATS_TARGET,
  type StatsFigures,
  statsPass,
  statsRow,
} from "./bench/stats.ts";
import {
  type Load,
  measureDatabase,
  measureNode,
  measureRaw,
  type Paths,
  progress,
  timeImport,
  writeNodeConfig,
} from "./bench/steps.ts";
import { batchBodies, filePaths, knownFiles, writeLines } from "./bench/workload.ts";
import { findWrk } from "./bench/wrk.ts";
import { measureSync, SYNC_TARGET, type SyncFigures, syncPass, syncRows } from "./bench/sync.ts";
import {
  measureProxy,
  PROXY_TARGET,
  type ProxyFigures,
  proxyPass,
  proxyRows,
} from "./bench/proxy.ts";
import {
  DNS_TARGET,
  type DnsFigures,
  dnsPass,
  dnsRows,
  dnsToolsMissing,
  measureDns,
} from "./bench/dns.ts";

const HELP = `Usage: deno task bench [options]

Generates a reputation feed, imports it with the real CLI, then loads the node
with wrk on 127.0.0.1 and prints the figures next to their targets. Single
look-ups are also run with licence checks off and on, alternating, twice each.

Options:
  --records N       records to generate and import (default 1000000)
  --duration S      seconds per measured wrk run (default 10)
  --connections C   wrk connections (default 50; wrk uses 2 threads)
  --keep DIR        work in DIR (must be empty or new) and keep it afterwards
  --only STEPS      run only these steps, comma-separated: lookups (import,
                    look-ups, memory), stats (statistics ingestion), sync
                    (publish a feed of --records, apply its snapshot and a
                    100k-change delta with pksn sync), proxy (an edge node's
                    KSN proxy in front of a local parent: 90% and 100% cache
                    hits, and what a miss adds); default all four; and
                    dns (dnsperf against the node's DNS look-ups and against
                    rbldnsd with the same list; needs the dnsperf and
                    rbldnsd packages, so run only when named)
  -h, --help        show this help

Environment:
  BENCH_FORM=source run src/main.ts rather than the bundled form the appliance
                    ships (deno bundle of src/main.ts, made in the work folder)
  BENCH_PROFILE=DIR run every node with --cpu-prof, writing DIR/LABEL.cpuprofile;
                    summarise one with scripts/bench/profile_summary.ts (with
                    BENCH_FORM=source its functions keep their file names)
`;

const PATH_COUNT = 100_000;
const BATCH_ITEMS = 1000;
const BATCH_BODIES = 16;
const HIT_SHARE = 0.1;
const AUTH_ROUNDS = 2;

interface Options {
  records: number;
  seconds: number;
  connections: number;
  threads: number;
  keep: string | undefined;
  steps: ReadonlySet<Step>;
}

const STEPS = ["lookups", "stats", "sync", "proxy", "dns"] as const;
type Step = typeof STEPS[number];
// dns needs two Debian packages the other steps do not: it runs when --only names it.
const DEFAULT_STEPS: readonly Step[] = ["lookups", "stats", "sync", "proxy"];

function parseSteps(text: string | undefined): ReadonlySet<Step> {
  const names = text === undefined ? [...DEFAULT_STEPS] : text.split(",").map((s) => s.trim());
  for (const name of names) {
    if (!(STEPS as readonly string[]).includes(name)) {
      throw new UsageError(`Invalid --only "${name}": expected ${STEPS.join(", ")}`);
    }
  }
  return new Set(names as Step[]);
}

class UsageError extends Error {}

function wholeNumber(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
): number {
  if (text === undefined) return fallback;
  const n = Number(text.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`Invalid --${name} "${text}": expected a whole number from ${min}`);
  }
  return n;
}

function parseOptions(args: string[]): Options | null {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        records: { type: "string" },
        duration: { type: "string" },
        connections: { type: "string" },
        keep: { type: "string" },
        only: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;
  const connections = wholeNumber("connections", values.connections, 50, 2);
  return {
    records: wholeNumber("records", values.records, 1_000_000, 1000),
    seconds: wholeNumber("duration", values.duration, 10, 1),
    connections,
    threads: 2,
    keep: values.keep,
    steps: parseSteps(values.only),
  };
}

async function prepareDir(keep: string | undefined): Promise<string> {
  if (keep === undefined) return await Deno.makeTempDir({ prefix: "pksn-bench-" });
  await Deno.mkdir(keep, { recursive: true });
  for await (const _ of Deno.readDir(keep)) {
    throw new UsageError(`Cannot use --keep "${keep}": it is not empty`);
  }
  return keep;
}

async function measure(
  options: Options,
  dir: string,
  wrk: string,
  form: Program["form"],
): Promise<Figures> {
  const paths: Paths = {
    records: join(dir, "records.ndjson"),
    data: join(dir, "data"),
    mixedPaths: join(dir, "paths_mixed.txt"),
    hitPaths: join(dir, "paths_hits.txt"),
    bodies: join(dir, "bodies.ndjson"),
  };
  const load: Load = {
    wrk,
    seconds: options.seconds,
    threads: options.threads,
    connections: options.connections,
  };
  const started = new Date();
  const machine = await describeMachine();
  const root = join(import.meta.dirname!, "..");
  const sourceBefore = await describeSource(root);

  progress(`generating ${int(options.records)} records in ${paths.records}`);
  const dataset = await writeDataset(paths.records, options.records);
  progress(
    `generated ${int(dataset.bytes)} bytes, ${
      int(dataset.keys)
    } keys in ${dataset.generateMillis} ms`,
  );
  const files = knownFiles(dataset.known);
  await writeLines(
    paths.mixedPaths,
    filePaths(files, { count: PATH_COUNT, hitShare: HIT_SHARE, seed: 1 }),
  );
  // Every known file once, in turn: each is asked again only after all the others, so the cache
  // of recent answers (16,384) never has it and every answer is read from SQLite.
  await writeLines(
    paths.hitPaths,
    filePaths(files, { count: files.length, hitShare: 1, seed: 2 }),
  );
  const bodies = batchBodies(dataset.known, {
    count: BATCH_BODIES,
    items: BATCH_ITEMS,
    hitShare: HIT_SHARE,
    seed: 3,
  });
  await writeLines(paths.bodies, bodies);

  progress("importing with the CLI");
  const imported = await timeImport(paths, options.records);
  const db = await measureDatabase(paths.data);
  progress("the import floor: the import's SQLite writes alone");
  const importFloor = await measureImportFloor(paths, join(dir, "import_floor"), options.records);

  const raw = await measureRaw(load);

  const nodeConfig = await writeNodeConfig(join(dir, "node_config.json"));
  if (nodeConfig !== null) {
    progress("registering the bench licence with the CLI");
    await registerLicence(paths.data);
  }
  progress("starting the node");
  const check = {
    knownHash: files[0],
    unknownHash: new Random(4).hex(32),
    body: bodies[0],
    items: BATCH_ITEMS,
  };
  const node = await measureNode(load, paths, {
    records: options.records,
    config: nodeConfig,
    check,
  });
  const loaded = node.load;
  const auth = nodeConfig === null ? null : await compareLicenceChecks(load, paths, {
    records: options.records,
    config: nodeConfig,
    check,
    rounds: AUTH_ROUNDS,
    hitShare: HIT_SHARE,
  });

  progress("the floor: a bare Deno.serve with the node's look-up engine");
  const floor = await measureFloor(load, paths, { v8Flags: await serveV8Flags() });

  const sourceAfter = await describeSource(root);
  const source = {
    ...sourceBefore,
    changedDuringRun: sourceAfter.srcSha256 !== sourceBefore.srcSha256,
  };
  const ratio = (rps: number): number => rps / raw.requestsPerSecond;
  return {
    date: started.toISOString(),
    machine,
    source,
    settings: {
      records: options.records,
      seconds: options.seconds,
      connections: options.connections,
      threads: options.threads,
      cpuProfileDir: profileDir(),
      form,
    },
    dataset: {
      records: dataset.records,
      keys: dataset.keys,
      bytes: dataset.bytes,
      byType: dataset.byType,
    },
    import: {
      wallSeconds: imported.wallSeconds,
      recordsPerSecond: options.records / imported.wallSeconds,
      keysPerSecond: dataset.keys / imported.wallSeconds,
      cli: imported.cli,
      floor: importFloor,
    },
    database: {
      ...db,
      bytesPerMillionRecords: (db.bytes + db.walBytes) * 1e6 / options.records,
    },
    raw,
    single: {
      mixed: {
        ...loaded.mixed,
        ratioToRaw: ratio(loaded.mixed.requestsPerSecond),
        hitShare: HIT_SHARE,
      },
      hits: { ...loaded.hits, ratioToRaw: ratio(loaded.hits.requestsPerSecond) },
    },
    hashlookup: {
      ...loaded.hashlookup,
      ratioToV1: loaded.hashlookup.requestsPerSecond / loaded.mixed.requestsPerSecond,
    },
    auth,
    batch: {
      ...loaded.batch,
      itemsPerRequest: BATCH_ITEMS,
      objectsPerSecond: loaded.batch.requestsPerSecond * BATCH_ITEMS,
      hitShare: node.batchHitShare,
    },
    floor,
    node: {
      measuredAtRecords: options.records,
      rssPeakBytes: node.memoryAtEnd.hwm,
      rssBytes: node.memoryAtEnd.rss,
      rssAfterStartBytes: node.memoryAfterStart.rss,
      rssPeakAfterStartBytes: node.memoryAfterStart.hwm,
      rssAfterRunBytes: loaded.rssAfter,
      indexMillis: node.indexMillis,
      indexKeys: node.indexKeys,
      start: node.start,
      restart: node.restart,
      licenceChecks: nodeConfig === null
        ? "not in this pksn"
        : "off on the first node, on in the licensed runs",
    },
  };
}

async function main(args: string[]): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}; see "deno task bench --help"`);
    return 2;
  }
  if (options === null) {
    console.log(HELP);
    return 0;
  }
  const wrk = options.steps.has("lookups") || options.steps.has("proxy") ? findWrk() : "";
  if (wrk === null) {
    console.error("install wrk: apt-get install -y wrk");
    return 1;
  }
  const dnsMissing = options.steps.has("dns") ? dnsToolsMissing() : [];
  if (dnsMissing.length > 0) {
    console.error(
      `install ${dnsMissing.join(" and ")}: apt-get install -y ${dnsMissing.join(" ")}`,
    );
    return 1;
  }
  let dir: string;
  try {
    dir = await prepareDir(options.keep);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}`);
    return 2;
  }
  const keep = options.keep !== undefined;
  const onSignal = (): void => {
    killAll();
    try {
      if (!keep) Deno.removeSync(dir, { recursive: true });
    } finally {
      Deno.exit(130);
    }
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const program = await prepareProgram(dir);
    progress(`running pksn in its ${program.form} form (${program.path})`);
    const figures = options.steps.has("lookups")
      ? await measure(options, dir, wrk, program.form)
      : null;
    const stats: StatsFigures | null = options.steps.has("stats")
      ? await measureStats(dir, options.seconds)
      : null;
    const sync: SyncFigures | null = options.steps.has("sync")
      ? await measureSync(dir, options.records)
      : null;
    const proxy: ProxyFigures | null = options.steps.has("proxy")
      ? await measureProxy(dir, {
        wrk,
        seconds: options.seconds,
        threads: options.threads,
        connections: options.connections,
      })
      : null;
    const dns: DnsFigures | null = options.steps.has("dns")
      ? await measureDns(dir, options.seconds)
      : null;
    if (figures !== null) console.log(renderTable(figures));
    if (stats !== null) console.log(statsRow(stats).join("  "));
    if (sync !== null) { for (const row of syncRows(sync)) console.log(row.join("  ")); }
    if (proxy !== null) { for (const row of proxyRows(proxy)) console.log(row.join("  ")); }
    if (dns !== null) { for (const row of dnsRows(dns)) console.log(row.join("  ")); }
    const verdicts = Object.fromEntries(
      Object.entries(figures === null ? {} : judge(figures)).map((
        [k, v],
      ) => [k, { target: v.target, pass: v.pass }]),
    );
    if (stats !== null) verdicts.stats = { target: STATS_TARGET, pass: statsPass(stats) };
    if (sync !== null) {
      verdicts.sync = {
        target: `snapshot ≥ ${SYNC_TARGET.applyPerSecond} records/s, delta ≥ ` +
          `${SYNC_TARGET.deltaPerSecond} changes/s, event loop blocked ≤ ` +
          `${SYNC_TARGET.stallMillis} ms while a serving node applies, ` +
          `≤ ${SYNC_TARGET.bytesPerFileRecord} bytes per file-hash record`,
        pass: syncPass(sync),
      };
    }
    if (proxy !== null) verdicts.proxy = { target: PROXY_TARGET, pass: proxyPass(proxy) };
    if (dns !== null) verdicts.dns = { target: DNS_TARGET, pass: dnsPass(dns) };
    const head = figures ?? { date: new Date().toISOString(), machine: await describeMachine() };
    console.log(
      `BENCH_JSON ${
        JSON.stringify({ ...head, form: program.form, stats, sync, proxy, dns, targets: verdicts })
      }`,
    );
    if (keep) progress(`kept the work folder "${dir}"`);
    return 0;
  } catch (err) {
    console.error(`bench: ${(err as Error).stack ?? err}`);
    return 1;
  } finally {
    await stopAll();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (!keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
