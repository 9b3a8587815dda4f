/** `pksn db compact`: gives the space of deleted rows and dropped tables back to the disk. */
import { quote, StoreError } from "../core/mod.ts";
import { databasePath } from "../node/mod.ts";
import { compactDatabase, lockDataDir, openDatabase } from "../store/mod.ts";
import { type Command, type CommandInput, defineCommand, type Options } from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";

const DB_COMPACT_HELP = `Usage: pksn db compact [options]

Rewrites the database in the data folder without its free pages, so the file
shrinks to the data it holds: after an upgrade to schema 6 (which leaves the old
entry table's pages free) or after large deletions. SQLite writes the new copy
to a temporary file first, so the disk needs free space as large as the
database. Refused while pksn serve is serving the folder: stop it first.

Options:
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

const COMPACT_OPTIONS = { ...DATA_OPTIONS } as const satisfies Options;

/** `pksn db compact`. */
export const compactCommand: Command = defineCommand({
  name: "compact",
  summary: "shrink the database file to the data it holds",
  help: DB_COMPACT_HELP,
  options: COMPACT_OPTIONS,
  run: compact,
});

async function compact({ values }: CommandInput<typeof COMPACT_OPTIONS>): Promise<number> {
  const config = await loadConfig(values);
  const path = databasePath(config.dataDir);
  try {
    await Deno.stat(path);
  } catch {
    throw new StoreError(`Cannot compact database ${quote(path)}: it does not exist`);
  }
  // The serve lock: a node serving the folder would hold readers and write meanwhile.
  using _lock = await lockDataDir(config.dataDir, "compact the database in data folder");
  const db = openDatabase(path);
  try {
    const started = performance.now();
    let done;
    try {
      done = compactDatabase(db);
    } catch (err) {
      // VACUUM is one transaction: a failure (a full disk, most likely) leaves the file as it was.
      const { size } = await Deno.stat(path);
      throw new StoreError(
        `Cannot compact database ${quote(path)}: ${(err as Error).message}; it is unchanged. ` +
          `Compacting writes a copy first, so it needs about ${
            (size / 1e6).toFixed(0)
          } MB free where SQLite keeps temporary files (SQLITE_TMPDIR, else /var/tmp) and again ` +
          "beside the database",
        { cause: err },
      );
    }
    const mb = (pages: number): string => `${(pages * done.pageSize / 1e6).toFixed(1)} MB`;
    console.log(
      `Compacted ${quote(path)} from ${mb(done.pagesBefore)} to ${mb(done.pagesAfter)} ` +
        `(${done.freeBefore} free pages given back) in ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s`,
    );
    return 0;
  } finally {
    db.close();
  }
}
