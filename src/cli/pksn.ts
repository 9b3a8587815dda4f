/** The `pksn` command's table: every command, in the order its help lists them. */
import { versionText } from "../core/mod.ts";
import { SCHEMA_VERSION } from "../store/mod.ts";
import { type Command, defineGroup, listCommands } from "./command.ts";
import { adminCommand } from "./admin.ts";
import { dbCommand } from "./db_check.ts";
import { feedCommand } from "./feed.ts";
import { importCommand } from "./import.ts";
import { licenseCommand } from "./license.ts";
import { lookupCommand } from "./lookup.ts";
import { participationCommand } from "./participation.ts";
import { proxyCommand } from "./proxy.ts";
import { rpzCommand } from "./rpz.ts";
import { upstreamCommand } from "./upstream.ts";
import { samplesCommand } from "./samples.ts";
import { serveCommand } from "./serve_command.ts";
import { statementCommand } from "./statement.ts";
import { statsCommand } from "./stats.ts";
import { syncCommand } from "./sync.ts";

const COMMANDS: readonly Command[] = [
  serveCommand,
  importCommand,
  lookupCommand,
  dbCommand,
  licenseCommand,
  statementCommand,
  participationCommand,
  adminCommand,
  statsCommand,
  feedCommand,
  syncCommand,
  proxyCommand,
  rpzCommand,
  upstreamCommand,
  samplesCommand,
];

const HELP = `Usage: pksn COMMAND [options]

pksn is a Private KSN node: it answers reputation look-ups for files, URLs,
domains, IP addresses and signing certificates from a local SQLite mirror.

Commands:
${listCommands(COMMANDS, 17)}

Run "pksn COMMAND --help" for a command's options, "pksn --version" for the
version, commit, build date, database schema and Deno version.
`;

const PKSN: Command = defineGroup({
  name: "pksn",
  summary: "a Private KSN node",
  help: HELP,
  commands: COMMANDS,
});

/** Runs the `pksn` command line `args`; resolves to the exit code, or throws an `AppError`. */
export function runPksn(args: string[]): Promise<number> {
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    console.log(versionText(SCHEMA_VERSION));
    return Promise.resolve(0);
  }
  // "pksn help" is the one place a bare word asks for help, as users of other tools expect.
  const words = args[0] === "help" ? ["--help", ...args.slice(1)] : args;
  return PKSN.run(words, { words: "", groupHelp: HELP });
}
