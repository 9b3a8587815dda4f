/** `pksn db check`: integrity, schema version and counts of the data folder's database. */
import { quote, StoreError } from "../core/mod.ts";
import { databasePath } from "../node/mod.ts";
import { countByLead, openDatabase, SCHEMA_VERSION, schemaVersion } from "../store/mod.ts";
import { OBJECT_TYPES, TYPE_BYTE } from "../reputation/mod.ts";
import { DATA_OPTIONS, loadConfig, parseCommand } from "./args.ts";

/** Help text of `pksn db check`. */
export const DB_CHECK_HELP = `Usage: pksn db check [options]

Checks the database in the data folder without changing it: SQLite's integrity
check, the schema version and the number of entries by object type and origin.
Exits 1 if anything is wrong.

Options:
  --json              print the result as JSON
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

/** Runs `pksn db check`. */
export async function dbCheckCommand(args: string[]): Promise<number> {
  const { values } = parseCommand(
    "db check",
    args,
    { ...DATA_OPTIONS, json: { type: "boolean" } },
    false,
  );
  if (values.help) {
    console.log(DB_CHECK_HELP);
    return 0;
  }
  const config = await loadConfig({
    config: values.config as string | undefined,
    dataDir: values.data as string | undefined,
  });
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
      const rows = db.prepare("PRAGMA integrity_check").all() as { integrity_check: string }[];
      problems.push(...rows.map((r) => r.integrity_check).filter((r) => r !== "ok"));
      version = schemaVersion(db);
      if (version !== SCHEMA_VERSION) {
        problems.push(`schema version is ${version}, this pksn expects ${SCHEMA_VERSION}`);
      }
      if (version >= 1) {
        counts = Object.fromEntries(OBJECT_TYPES.map((t) => [t, countByLead(db, TYPE_BYTE[t])]));
      }
    } catch (err) {
      problems.push(`SQLite: ${(err as Error).message}`);
    }
    const { size } = await Deno.stat(path);
    const result = {
      path,
      ok: problems.length === 0,
      schemaVersion: version,
      bytes: size,
      counts,
      problems,
    };
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`Database ${quote(path)}: ${result.ok ? "ok" : "PROBLEMS FOUND"}`);
      console.log(`  schema version ${version}, ${size} bytes`);
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
