/** `pksn upstream status|retry`: what waits to go to the parent node, and "send it now". */
import { createLogger, systemClock } from "../core/mod.ts";
import { openStore } from "../node/mod.ts";
import { Spool, SPOOL_KINDS } from "../store/mod.ts";
import {
  type Command,
  type CommandInput,
  defineCommand,
  defineGroup,
  type Options,
} from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";

const OPTIONS = { ...DATA_OPTIONS, json: { type: "boolean" } } as const satisfies Options;

const statusCommand: Command = defineCommand({
  name: "status",
  summary: "what waits for the parent, and why",
  help: `Usage: pksn upstream status [--json] [options]

Shows the parent node (upstream.url) and, for statistics and samples, how many
batches wait in the spool, their size, the oldest, the most attempts, when the
next attempt is due and the last error.

Options: --data DIR --config FILE --json
`,
  options: OPTIONS,
  run: status,
});

const retryCommand: Command = defineCommand({
  name: "retry",
  summary: "send everything waiting at the next forwarding tick",
  help: `Usage: pksn upstream retry [options]

Makes every waiting batch due now and lifts the pause a failure put on sending,
for when the parent (or this node's key there) was fixed: a running node sends
them within stats.forwardIntervalSeconds instead of at the retry it scheduled.

Options: --data DIR --config FILE --json
`,
  options: OPTIONS,
  run: retry,
});

/** `pksn upstream …`. */
export const upstreamCommand: Command = defineGroup({
  name: "upstream",
  summary: "what waits to go to the parent node; send it now",
  help: `Usage: pksn upstream status|retry [options]

  status   what waits for the parent, and why
  retry    send everything waiting at the next forwarding tick

Run "pksn upstream COMMAND --help" for details.`,
  commands: [statusCommand, retryCommand],
});

async function openSpool(
  values: CommandInput<typeof OPTIONS>["values"],
): Promise<{ spool: Spool; url: string | null; close(): void }> {
  const config = await loadConfig(values);
  const log = createLogger("warn");
  const db = await openStore(config.dataDir, { cacheMiB: 8, log });
  const spool = new Spool(db, { clock: systemClock, log, maxBytes: config.stats.spoolMaxBytes });
  return { spool, url: config.upstream.url, close: () => db.close() };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

async function status({ values }: CommandInput<typeof OPTIONS>): Promise<number> {
  const opened = await openSpool(values);
  try {
    const state = opened.spool.state();
    if (values.json) {
      const kinds = Object.fromEntries(SPOOL_KINDS.map((kind) => [kind, {
        ...state[kind],
        oldestCreatedAt: iso(state[kind].oldestCreatedAt),
        nextAttemptAt: iso(state[kind].nextAttemptAt),
      }]));
      console.log(JSON.stringify({ parent: opened.url, ...kinds }, null, 2));
      return 0;
    }
    console.log(`Parent: ${opened.url ?? "none (upstream.url is not set)"}`);
    for (const kind of SPOOL_KINDS) {
      const s = state[kind];
      if (s.entries === 0) {
        console.log(`  ${kind}: nothing waiting`);
        continue;
      }
      console.log(
        `  ${kind}: ${s.entries} waiting (${s.bytes} bytes), oldest ${iso(s.oldestCreatedAt)}, ` +
          `up to ${s.mostAttempts} attempts, next ${
            s.nextAttemptAt === 0 ? "now (retry asked)" : iso(s.nextAttemptAt)
          }` + (s.lastError ? `\n    last error: ${s.lastError}` : ""),
      );
    }
    return 0;
  } finally {
    opened.close();
  }
}

async function retry({ values }: CommandInput<typeof OPTIONS>): Promise<number> {
  const opened = await openSpool(values);
  try {
    const made = opened.spool.retryNow();
    const text = made === 0
      ? "Nothing waits for the parent"
      : `${made} batch${made === 1 ? "" : "es"} due now; a running node sends ${
        made === 1 ? "it" : "them"
      } at its next forwarding tick`;
    console.log(values.json ? JSON.stringify({ due: made }) : text);
    return 0;
  } finally {
    opened.close();
  }
}
