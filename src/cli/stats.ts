/** `pksn stats …`: the operator's view of the statistics in the data folder. */
import {
  type DayCounts,
  dayCounts,
  type DayListing,
  exportDay,
  isDate,
  listDays,
  statsDir,
} from "../stats/mod.ts";
import { AppError, quote, UsageError } from "../core/mod.ts";
import {
  type Command,
  defineCommand,
  defineGroup,
  listCommands,
  type Options,
  type OptionValues,
  unknownCommand,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";

const STATS_OPTIONS = {
  ...DATA_OPTIONS,
  json: { type: "boolean" },
  out: { type: "string" },
} as const satisfies Options;

/** What a `pksn stats` command works with once the configuration is read. */
interface StatsRun {
  values: OptionValues<typeof STATS_OPTIONS>;
  positionals: string[];
  /** The statistics folder. */
  dir: string;
  json: boolean;
}

/** A `pksn stats` command: every one takes the same options and reads the configuration first. */
function statsSubcommand(
  text: { name: string; synopsis?: string; summary: string },
  run: (r: StatsRun) => Promise<void>,
): Command {
  return defineCommand({
    ...text,
    options: STATS_OPTIONS,
    positionals: true,
    async run({ values, positionals }): Promise<number> {
      const config = await loadConfig(values);
      await run({ values, positionals, dir: statsDir(config.dataDir), json: !!values.json });
      return 0;
    },
  });
}

const STATS_COMMANDS: readonly Command[] = [
  statsSubcommand({
    name: "list",
    summary: "days with their record counts, and whether packed",
  }, async ({ positionals, dir, json }) => {
    expectNoArgs(positionals);
    printList(await listDays(dir), json);
  }),
  statsSubcommand({
    name: "show",
    synopsis: "show DATE",
    summary: "one day's counts by verdict and by threat (the\n" +
      "1,000 most frequent; the rest summed up)",
  }, async ({ positionals, dir, json }) => {
    printCounts(await dayCounts(dir, dateArg("show", positionals)), json);
  }),
  statsSubcommand({
    name: "export",
    synopsis: "export DATE [--out FILE]",
    summary: "the day's NDJSON, to standard output or FILE,\n" +
      "read from the archive when the day is packed",
  }, async ({ values, positionals, dir }) => {
    await writeExport(dir, dateArg("export", positionals), values.out);
  }),
];

const STATS_HELP = `Usage: pksn stats COMMAND [options]

Shows the detection statistics clients sent (POST /v1/stats). Each UTC day's
records are one NDJSON file, DATA/stats/YYYY-MM-DD.ndjson, packed after the day
into DATA/stats/archive/YYYY-MM-DD.tar (the NDJSON and a manifest.json).

Commands:
${listCommands(STATS_COMMANDS, 29)}

Options:
  --out FILE          with export: write here instead of standard output
  --json              print list and show as JSON
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

/** `pksn stats …`: the operator's view of the statistics in the data folder. */
export const statsCommand: Command = defineGroup({
  name: "stats",
  summary: "list, show and export the detection statistics clients sent",
  help: STATS_HELP,
  commands: STATS_COMMANDS,
  // Any other word takes the options too (so --help after it shows this help) and reads the
  // configuration before it is refused, as it always has.
  otherwise: (word) =>
    statsSubcommand({ name: word, summary: "" }, () => {
      throw unknownCommand("stats", word);
    }),
});

function expectNoArgs(positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument ${quote(positionals[0])}; see "pksn stats --help"`);
  }
}

function dateArg(sub: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new UsageError(`Expected one DATE (YYYY-MM-DD) after "stats ${sub}"`);
  }
  const [date] = positionals;
  if (!isDate(date)) throw new UsageError(`Invalid date ${quote(date)}: expected YYYY-MM-DD`);
  return date;
}

function printList(days: DayListing[], json: boolean): void {
  if (json) {
    console.log(JSON.stringify({ days }, null, 2));
    return;
  }
  if (days.length === 0) {
    console.log("No statistics yet");
    return;
  }
  for (const day of days) {
    console.log(
      `${day.date}  ${day.records.toLocaleString("en-US").padStart(12)} records  ${
        day.archived ? "archived" : "open"
      }`,
    );
  }
}

function printCounts(day: DayCounts, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(day, null, 2));
    return;
  }
  console.log(`${day.date}: ${day.records} records, ${day.archived ? "archived" : "open"}`);
  if (day.sha256) console.log(`  sha256 ${day.sha256}`);
  console.log("By verdict:");
  for (const [verdict, n] of Object.entries(day.verdicts)) {
    console.log(`  ${String(n).padStart(10)}  ${verdict}`);
  }
  console.log("By threat:");
  for (const [threat, n] of Object.entries(day.threats)) {
    console.log(`  ${String(n).padStart(10)}  ${threat}`);
  }
  const other = day.otherThreats;
  if (other.records > 0) {
    console.log(`  ${String(other.records).padStart(10)}  (${other.distinct} other threats)`);
  }
}

async function writeExport(dir: string, date: string, out: string | undefined): Promise<void> {
  const chunks = await exportDay(dir, date);
  if (out === undefined) {
    await exportTo(date, chunks, Deno.stdout);
    return;
  }
  // Written under a temporary name and renamed once synced: a failed export never
  // leaves a truncated FILE that looks complete.
  const temporary = `${out}.tmp`;
  let target: Deno.FsFile;
  try {
    target = await Deno.open(temporary, { write: true, create: true, truncate: true });
  } catch (err) {
    throw new AppError(
      "internal",
      "export_failed",
      `Cannot write ${quote(temporary)}: ${(err as Error).message}`,
    );
  }
  try {
    try {
      await exportTo(date, chunks, target);
      await target.sync();
    } finally {
      target.close();
    }
    await Deno.rename(temporary, out);
  } catch (err) {
    await Deno.remove(temporary).catch(() => {});
    if (err instanceof AppError) throw err;
    throw new AppError(
      "internal",
      "export_failed",
      `Cannot write ${quote(out)}: ${(err as Error).message}`,
    );
  }
}

async function exportTo(
  date: string,
  chunks: AsyncIterable<Uint8Array>,
  sink: { write(p: Uint8Array): Promise<number> },
): Promise<void> {
  try {
    for await (const chunk of chunks) {
      let written = 0;
      while (written < chunk.length) written += await sink.write(chunk.subarray(written));
    }
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError(
      "internal",
      "export_failed",
      `Cannot export statistics of ${quote(date)}: ${(err as Error).message}`,
    );
  }
}
