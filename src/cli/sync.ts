/**
 * `pksn sync`: bring the mirror up to the feed's current version once, show how
 * syncing has gone, or re-verify the mirror's checksum against its rows.
 */
import type { DatabaseSync } from "../store/mod.ts";
import {
  type Config,
  ConfigError,
  createLogger,
  type Logger,
  quote,
  systemClock,
  UsageError,
} from "../core/mod.ts";
import { type FeedSource, SyncService } from "../mirror/mod.ts";
import { databasePath, openStore } from "../node/mod.ts";
import { computeMirrorChecksum, readMirrorState } from "../feed/mod.ts";
import { type Command, type CommandInput, defineCommand, type Options } from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import { StepProgress } from "./progress.ts";
import { saveIndexAfterWrites } from "./_saved_index.ts";

const SYNC_HELP = `Usage: pksn sync [once|status|verify] [options]

  once     (the default) fetch the feed at sync.url and apply what is new:
           deltas when they lead from this mirror's version, else the full
           snapshot; every file is checked against the signed metadata
  status   show the mirror's version, the upstream's, lag, last success,
           failures and freshness (fresh, stale, frozen)
  verify   recompute the mirror's checksum from its rows and compare it with
           the one recorded when its version was applied; exits 1 on mismatch

A serving node syncs by itself on a schedule (sync.intervalSeconds); this
command is for cron jobs, first installs and troubleshooting.

Options:
  --json              print the result as JSON
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

/**
 * The sync service a CLI command runs once, outside a serving node (so with no
 * look-ups to steer); `source` replaces the feed at `sync.url` (a bundle).
 */
export function openSyncService(
  config: Config,
  db: DatabaseSync,
  log: Logger,
  options: { source?: FeedSource; progress?: StepProgress } = {},
): Promise<SyncService> {
  return SyncService.create({
    config: config.sync,
    dataDir: config.dataDir,
    db,
    clock: systemClock,
    log,
    mode: { mode: "current" },
    source: options.source,
    onProgress: options.progress && ((event) => options.progress!.update(event)),
  });
}

const SYNC_OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const satisfies Options;

/** `pksn sync [once|status|verify]`. */
export const syncCommand: Command = defineCommand({
  name: "sync",
  summary: "bring the mirror up to its feed's version, or show how syncing goes",
  help: SYNC_HELP,
  options: SYNC_OPTIONS,
  positionals: true,
  run: sync,
});

async function sync({ values, positionals }: CommandInput<typeof SYNC_OPTIONS>): Promise<number> {
  const action = positionals[0] ?? "once";
  if (!["once", "status", "verify"].includes(action) || positionals.length > 1) {
    throw new UsageError(`Unknown "pksn sync ${positionals.join(" ")}"; see "pksn sync --help"`);
  }
  const config = await loadConfig(values);
  const log = createLogger(config.log.level);
  const db = await openStore(config.dataDir, { cacheMiB: config.store.importCacheMiB, log });
  const print = (value: object, text: string): void =>
    console.log(values.json ? JSON.stringify(value) : text);
  try {
    if (action === "verify") {
      const state = readMirrorState(db);
      const actual = computeMirrorChecksum(db);
      const ok = actual.checksum === state.checksum;
      print(
        { version: state.version, recorded: state.checksum, computed: actual.checksum, ok },
        ok
          ? `Mirror version ${state.version}: checksum ${actual.checksum} over ${actual.rows} rows matches`
          : `Mirror version ${state.version}: checksum ${actual.checksum} over ${actual.rows} rows ` +
            `does not match the recorded ${state.checksum}: the mirror's rows are damaged; stop ` +
            `the node and restore ${quote(databasePath(config.dataDir))} from a backup (a node ` +
            `that holds nothing but the mirror can instead start from an empty data folder and ` +
            `run "pksn sync", which applies the full snapshot)`,
      );
      return ok ? 0 : 1;
    }
    if (config.sync.url === null && action === "once") {
      throw new ConfigError(
        "sync.url is not set: give the feed's URL in the configuration file or PKSN_SYNC_URL",
      );
    }
    if (config.sync.root === null) {
      throw new ConfigError(
        "sync.root is not set: give the feed's trusted root.json (PKSN_SYNC_ROOT)",
      );
    }
    const progress = action === "once" ? new StepProgress() : undefined;
    const service = await openSyncService(config, db, log, { progress });
    if (action === "status") {
      const report = service.report();
      print(
        report,
        Object.entries(report).map(([k, v]) => `${k.padEnd(20)} ${v ?? "-"}`).join("\n"),
      );
      return 0;
    }
    let result;
    try {
      result = await service.runOnce();
    } finally {
      progress?.close();
    }
    if (result.outcome !== "current") await saveIndexAfterWrites(db, config, log);
    print(
      result,
      result.outcome === "current"
        ? `Mirror is current at version ${result.to}`
        : `Mirror synced from version ${result.from} to ${result.to} (${result.via.join(", ")})`,
    );
    return 0;
  } finally {
    db.close();
  }
}
