/** `pksn proxy status` and `pksn proxy flush`: the KSN proxy's cache in the data folder. */
import { createLogger, systemClock, UsageError } from "../core/mod.ts";
import { openStore } from "../node/mod.ts";
import { canonicalValue, OBJECT_TYPES, type ObjectType } from "../reputation/mod.ts";
import { ProxyCacheTable } from "../store/mod.ts";
import {
  type Command,
  type CommandInput,
  defineCommand,
  defineGroup,
  type Options,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";

const STATUS_HELP = `Usage: pksn proxy status [options]

Shows the KSN proxy's settings and what its cache holds on disk: answers by
object type, their size, and how many are past their TTL (kept for serving
stale while the parent is down). A running node writes its cache here every
second; its live counters are in GET /v1/node and /metrics.

Options:
  --json              print the result as JSON
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

const FLUSH_HELP = `Usage: pksn proxy flush [--type TYPE] [VALUE] [options]

Removes cached answers of the KSN proxy, so the next look-up asks the parent
again: all of them, those of one object type, or one object (VALUE, with
--type). A running node drops them within store.reloadCheckSeconds.

Options:
  --type TYPE         file, url, domain, ip or cert
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help

Examples:
  pksn proxy flush
  pksn proxy flush --type url
  pksn proxy flush --type file 44D88612FEA8A8F36DE82E1278ABB02F
`;

const STATUS_OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const satisfies Options;
const FLUSH_OPTIONS = { ...DATA_OPTIONS, type: { type: "string" } } as const satisfies Options;

const statusCommand: Command = defineCommand({
  name: "status",
  summary: "show the proxy's settings and cache",
  help: STATUS_HELP,
  options: STATUS_OPTIONS,
  run: status,
});

const flushCommand: Command = defineCommand({
  name: "flush",
  summary: "remove cached answers",
  help: FLUSH_HELP,
  options: FLUSH_OPTIONS,
  positionals: true,
  run: flush,
});

/** `pksn proxy …`. */
export const proxyCommand: Command = defineGroup({
  name: "proxy",
  summary: "the KSN proxy's cache",
  help: `Usage: pksn proxy status|flush [options]

  status   show the proxy's settings and what its cache holds
  flush    remove cached answers (all, one type's, or one object's)

Run "pksn proxy COMMAND --help" for details.`,
  commands: [statusCommand, flushCommand],
});

async function status({ values }: CommandInput<typeof STATUS_OPTIONS>): Promise<number> {
  const config = await loadConfig(values);
  const db = await openStore(config.dataDir, { cacheMiB: 8, log: createLogger("warn") });
  try {
    const totals = new ProxyCacheTable(db).totals(systemClock.now());
    const entries = Object.values(totals.byType).reduce((n, t) => n + t.entries, 0);
    const bytes = Object.values(totals.byType).reduce((n, t) => n + t.bytes, 0);
    const p = config.proxy;
    const result = {
      enabled: p.enabled,
      parent: config.upstream.url,
      cache: {
        entries,
        bytes,
        expired: totals.expired,
        maxEntries: p.cacheEntries,
        maxBytes: p.cacheMiB * 1024 * 1024,
        byType: totals.byType,
      },
    };
    if (values.json) {
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    console.log(
      `KSN proxy: ${p.enabled ? "on" : "off"}${
        config.upstream.url ? `, parent ${config.upstream.url}` : ", no parent (upstream.url)"
      }`,
    );
    console.log(
      `  cache: ${entries} of at most ${p.cacheEntries} answers, ${
        mib(bytes)
      } of ${p.cacheMiB} MiB; ` +
        `${totals.expired} past their TTL`,
    );
    for (const [type, t] of Object.entries(totals.byType)) {
      const answers = t.entries === 1 ? "answer " : "answers";
      console.log(
        `  ${type.padEnd(7)} ${String(t.entries).padStart(10)} ${answers} ${mib(t.bytes)}`,
      );
    }
    return 0;
  } finally {
    db.close();
  }
}

async function flush(
  { values, positionals }: CommandInput<typeof FLUSH_OPTIONS>,
): Promise<number> {
  const type = values.type;
  if (type !== undefined && !(OBJECT_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`Unknown --type "${type}": expected one of ${OBJECT_TYPES.join(", ")}`);
  }
  if (positionals.length > 1) {
    throw new UsageError("Give at most one VALUE to flush");
  }
  if (positionals.length === 1 && type === undefined) {
    throw new UsageError("Give --type with a VALUE, e.g. pksn proxy flush --type domain x.example");
  }
  const value = positionals.length === 1
    ? canonicalValue(type as ObjectType, positionals[0])
    : undefined;
  const config = await loadConfig(values);
  const db = await openStore(config.dataDir, { cacheMiB: 8, log: createLogger("warn") });
  try {
    const removed = new ProxyCacheTable(db).clear({ type, value });
    const what = value !== undefined
      ? `${type} ${value}`
      : type !== undefined
      ? `every ${type} answer`
      : "every answer";
    console.log(`Removed ${removed} cached answer${removed === 1 ? "" : "s"} (${what})`);
    return 0;
  } finally {
    db.close();
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
