/** `pksn samples list`: the samples the quarantine keeps, as `GET /admin/api/samples` lists them. */
import { createLogger, systemClock, UsageError } from "../core/mod.ts";
import { openStore } from "../node/mod.ts";
import { QuarantineFolder, quarantineRoot, SampleStore } from "../samples/mod.ts";
import {
  type Command,
  type CommandInput,
  defineCommand,
  defineGroup,
  type Options,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";

const OPTIONS = {
  ...DATA_OPTIONS,
  json: { type: "boolean" },
  limit: { type: "string" },
} as const satisfies Options;

const listCommand: Command = defineCommand({
  name: "list",
  summary: "the samples kept, newest first",
  help: `Usage: pksn samples list [--limit N] [--json] [options]

Lists the samples in the quarantine (DATA/quarantine), newest first: SHA-256,
size, when it arrived, its detection and extension, and whether it still waits
in the spool for the parent. --limit caps the list (1 to 100000, default 100).

Options: --data DIR --config FILE --json --limit N
`,
  options: OPTIONS,
  run: list,
});

/** `pksn samples …`. */
export const samplesCommand: Command = defineGroup({
  name: "samples",
  synopsis: "samples list",
  summary: listCommand.summary,
  help: 'Usage: pksn samples list [options]\n\nRun "pksn samples list --help" for details.',
  commands: [listCommand],
});

async function list({ values }: CommandInput<typeof OPTIONS>): Promise<number> {
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
    throw new UsageError(`Invalid --limit ${JSON.stringify(values.limit)}: expected 1 to 100000`);
  }
  const config = await loadConfig(values);
  const log = createLogger("warn");
  const db = await openStore(config.dataDir, { cacheMiB: 8, log });
  try {
    const store = new SampleStore({
      db,
      folder: new QuarantineFolder(quarantineRoot(config.dataDir), { log }),
      clock: systemClock,
      log,
      maxSampleBytes: config.stats.maxSampleBytes,
      maxTotalBytes: config.stats.quarantineMaxBytes,
      retentionDays: config.stats.sampleRetentionDays,
      spool: null,
    });
    const listed = store.list(limit);
    if (values.json) {
      console.log(JSON.stringify(listed, null, 2));
      return 0;
    }
    console.log(`${listed.count} sample${listed.count === 1 ? "" : "s"}, ${listed.bytes} bytes`);
    for (const s of listed.samples) {
      const about = [s.detection, s.extension ? `.${s.extension}` : null].filter(Boolean).join(" ");
      const waiting = s.queued ? ` waiting for the parent (${s.attempts} attempts)` : "";
      console.log(
        `  ${s.sha256} ${String(s.size).padStart(10)} ${s.receivedAt} ${about}${waiting}`,
      );
    }
    return 0;
  } finally {
    db.close();
  }
}
