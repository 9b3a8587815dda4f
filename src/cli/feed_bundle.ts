/** `pksn feed export|import-bundle`: a feed's current version as one TAR, and applying one. */
import {
  type Config,
  ConfigError,
  createLogger,
  type Logger,
  quote,
  UsageError,
} from "../core/mod.ts";
import { openStore } from "../node/mod.ts";
import { saveIndexAfterWrites } from "./_saved_index.ts";
import {
  exportBundle,
  openBundle,
  readShippedRoot,
  syncPaths,
  type SyncRunResult,
} from "../mirror/mod.ts";
import type { Command, CommandInput, Options } from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import { feedSubcommand, requiredOption } from "./_feed_args.ts";
import { openSyncService } from "./sync.ts";
import { StepProgress } from "./progress.ts";

const EXPORT_HELP = `Usage: pksn feed export --feed DIR --out FILE

Writes the feed's current version as one TAR: the root versions, the signed
timestamp, the manifest, the snapshot and the deltas it lists. Carry it to a
node and run "pksn feed import-bundle FILE" there.

Options:
  --feed DIR          the feed folder
  --out FILE          the bundle to write (replaced if it exists)
  -h, --help          show this help
`;

const IMPORT_BUNDLE_HELP = `Usage: pksn feed import-bundle FILE [options]

Brings this node's mirror to the version in the bundle FILE, with every check
a network sync makes: the root chain from sync.root, signatures, expiry, no
rollback, and each file's hash and length. Local overrides are kept.

Options:
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG); sync.root
                      (env PKSN_SYNC_ROOT) must name the feed's trusted root.json
  -h, --help          show this help
`;

const EXPORT_OPTIONS = {
  feed: { type: "string" },
  out: { type: "string" },
} as const satisfies Options;

/** `pksn feed export`. */
export const exportCommand: Command = feedSubcommand({
  name: "export",
  summary: "write the current version into one TAR, an offline bundle",
  help: EXPORT_HELP,
  options: EXPORT_OPTIONS,
  keepsUmask: true,
  run: exportFeed,
});

/** `pksn feed import-bundle FILE`: it writes the data folder, so its files stay private. */
export const importBundleCommand: Command = feedSubcommand({
  name: "import-bundle",
  summary: "bring this node's mirror to a bundle's version, verified like a sync",
  help: IMPORT_BUNDLE_HELP,
  options: DATA_OPTIONS,
  positionals: true,
  run: importBundle,
});

async function exportFeed({ values }: CommandInput<typeof EXPORT_OPTIONS>): Promise<number> {
  const feed = requiredOption(values, "feed", "export");
  const out = requiredOption(values, "out", "export");
  const report = await exportBundle(feed, out);
  console.log(
    `Wrote bundle ${
      quote(out)
    }: version ${report.version}, ${report.files} files, ${report.bytes} bytes`,
  );
  return 0;
}

async function importBundle(
  { values, positionals }: CommandInput<typeof DATA_OPTIONS>,
): Promise<number> {
  if (positionals.length !== 1) {
    throw new UsageError('Expected exactly one bundle FILE; see "pksn feed import-bundle --help"');
  }
  const config = await loadConfig(values);
  const log = createLogger(config.log.level);
  const result = await applyBundle(config, positionals[0], log);
  if (result.outcome !== "current") {
    // As pksn sync does: the node's next start reads the index instead of scanning every key.
    const db = await openStore(config.dataDir, { cacheMiB: config.store.importCacheMiB, log });
    try {
      await saveIndexAfterWrites(db, config, log);
    } finally {
      db.close();
    }
  }
  console.log(describeOutcome(result, positionals[0]));
  return 0;
}

/**
 * Verifies the bundle at `path` against `sync.root` and applies it to the data folder's
 * mirror, exactly as a network sync would; used by `pksn feed import-bundle` and by the admin
 * API's bundle upload (whose node then rebuilds its index).
 */
export async function applyBundle(
  config: Config,
  path: string,
  log: Logger,
): Promise<SyncRunResult> {
  if (config.sync.root === null) {
    throw new ConfigError(
      "sync.root is not set: set sync.root in the configuration (or PKSN_SYNC_ROOT) to the " +
        "feed's trusted root.json, which every bundle is verified against",
    );
  }
  // Read here too so that a wrong sync.root fails at once, before a large bundle is unpacked.
  await readShippedRoot(config.sync.root);
  // Unpacked first: a bundle that cannot be read should not leave a new, empty database behind.
  await using source = await openBundle(path, syncPaths(config.dataDir).staging, {
    maxFileBytes: config.sync.maxFileMiB * 1024 * 1024,
  });
  const db = await openStore(config.dataDir, { cacheMiB: config.store.importCacheMiB, log });
  try {
    const progress = new StepProgress();
    try {
      return await (await openSyncService(config, db, log, { source, progress })).runOnce();
    } finally {
      progress.close();
    }
  } finally {
    db.close();
  }
}

function describeOutcome(result: SyncRunResult, file: string): string {
  if (result.outcome === "current") {
    return `The mirror is at version ${result.to} already; ${quote(file)} holds nothing newer`;
  }
  return `Mirror updated from version ${result.from} to ${result.to} from ${quote(file)} ` +
    `(${result.via.join(", ")})`;
}
