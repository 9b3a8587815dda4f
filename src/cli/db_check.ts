/** `pksn db check`: integrity, schema version and counts of the data folder's database. */
import { quote, StoreError } from "../core/mod.ts";
import { databasePath } from "../node/mod.ts";
import { OBJECT_TYPES, TYPE_BYTE } from "../reputation/mod.ts";
import {
  countByLead,
  integrityProblems,
  openDatabase,
  SCHEMA_VERSION,
  schemaVersion,
} from "../store/mod.ts";
import {
  type Command,
  type CommandInput,
  defineCommand,
  defineGroup,
  type Options,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";
import { compactCommand } from "./db_compact.ts";

const DB_CHECK_HELP = `Usage: pksn db check [options]

Checks the database in the data folder without changing it: SQLite's integrity
check, the schema version and the number of entries by object type and origin.
Exits 1 if anything is wrong.

Options:
  --json              print the result as JSON
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

const CHECK_OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const satisfies Options;

/** `pksn db check`. */
const checkCommand: Command = defineCommand({
  name: "check",
  summary: "check the database's integrity and show counts",
  help: DB_CHECK_HELP,
  options: CHECK_OPTIONS,
  run: check,
});

/** `pksn db …`: `check` and `compact`. */
export const dbCommand: Command = defineGroup({
  name: "db",
  synopsis: "db check|compact",
  summary: "check the database's integrity and show counts, or shrink its file",
  help: "Usage: pksn db check [options]\n       pksn db compact [options]\n\n" +
    'Run "pksn db check --help" or "pksn db compact --help" for details.',
  commands: [checkCommand, compactCommand],
});

async function check({ values }: CommandInput<typeof CHECK_OPTIONS>): Promise<number> {
  const config = await loadConfig(values);
  const path = databasePath(config.dataDir);
  try {
    await Deno.stat(path);
  } catch {
    throw new StoreError(`Cannot check database ${quote(path)}: it does not exist`);
  }
  const db = openDatabase(path, { readOnly: true });
  try {
    const problems: string[] = [];
    let version = 0;
    let counts: Record<string, { mirror: number; local: number }> = {};
    // A damaged file makes SQLite throw rather than report; that is a finding, not a crash.
    try {
      problems.push(...integrityProblems(db));
      version = schemaVersion(db);
      if (version !== SCHEMA_VERSION) {
        problems.push(`schema version is ${version}, this pksn expects ${SCHEMA_VERSION}`);
      }
      if (version >= 1) {
        counts = {};
        for (const t of OBJECT_TYPES) counts[t] = await countByLead(db, TYPE_BYTE[t]);
      }
    } catch (err) {
      problems.push(`SQLite: ${(err as Error).message}`);
    }
    const { size } = await Deno.stat(path);
    // Recent writes sit in the -wal file until a checkpoint: it is part of the data.
    const walBytes = await Deno.stat(`${path}-wal`).then((s) => s.size, () => 0);
    const result = {
      path,
      ok: problems.length === 0,
      schemaVersion: version,
      bytes: size + walBytes,
      walBytes,
      counts,
      problems,
    };
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`Database ${quote(path)}: ${result.ok ? "ok" : "PROBLEMS FOUND"}`);
      console.log(
        `  schema version ${version}, ${size + walBytes} bytes` +
          (walBytes ? ` (${walBytes} of them in the write-ahead log ${quote(`${path}-wal`)})` : ""),
      );
      for (const [type, c] of Object.entries(counts)) {
        console.log(
          `  ${type.padEnd(7)} ${String(c.mirror).padStart(10)} mirror ${
            String(c.local).padStart(8)
          } local`,
        );
      }
      for (const p of problems) console.log(`  problem: ${p}`);
    }
    return result.ok ? 0 : 1;
  } finally {
    db.close();
  }
}
