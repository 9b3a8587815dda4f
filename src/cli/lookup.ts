/** `pksn lookup TYPE VALUE`: the API's answer, offline, straight from the data folder. */
import { createLogger, quote, StoreError, systemClock, UsageError } from "../core/mod.ts";
import { databasePath, openNode } from "../node/mod.ts";
import { OBJECT_TYPES, type ObjectType } from "../reputation/mod.ts";
import { type Command, type CommandInput, defineCommand } from "./command.ts";
import { DATA_OPTIONS, loadConfig } from "./load_config.ts";

const LOOKUP_HELP = `Usage: pksn lookup TYPE VALUE [options]

Looks an object up in the local data folder and prints the same JSON result the
API gives. TYPE is one of ${OBJECT_TYPES.join(", ")}.

Examples:
  pksn lookup file 44d88612fea8a8f36de82e1278abb02f
  pksn lookup url "http://a.b.evil.example/x/y?q=1"
  pksn lookup ip 192.0.2.7

Options:
  --data DIR          data folder (env PKSN_DATA; default ./pksn-data)
  --config FILE       JSON configuration file (env PKSN_CONFIG)
  -h, --help          show this help
`;

/** `pksn lookup TYPE VALUE`. */
export const lookupCommand: Command = defineCommand({
  name: "lookup",
  synopsis: "lookup TYPE VALUE",
  summary: "look an object up offline, as the API would answer",
  help: LOOKUP_HELP,
  options: DATA_OPTIONS,
  positionals: true,
  run: lookup,
});

async function lookup(
  { values, positionals }: CommandInput<typeof DATA_OPTIONS>,
): Promise<number> {
  if (positionals.length !== 2) {
    throw new UsageError('Expected TYPE and VALUE; see "pksn lookup --help"');
  }
  const [type, value] = positionals;
  if (!(OBJECT_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(
      `Unknown object type ${quote(type)}: expected one of ${OBJECT_TYPES.join(", ")}`,
    );
  }
  const config = await loadConfig(values);
  const log = createLogger(config.log.level);
  const path = databasePath(config.dataDir);
  try {
    await Deno.stat(path);
  } catch {
    // Opening would create an empty database and answer "unknown" for everything.
    throw new StoreError(`Cannot look up in ${quote(path)}: it does not exist`);
  }
  const node = await openNode(config, { clock: systemClock, log });
  try {
    console.log(JSON.stringify(node.reputation.lookup(type as ObjectType, value), null, 2));
    return 0;
  } finally {
    node.close();
  }
}
