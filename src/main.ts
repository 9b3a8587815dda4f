/** The `pksn` command: one entry, one subcommand per job. */
import { AppError, type ErrorKind, UsageError } from "./core/mod.ts";
import {
  adminCommand,
  dbCheckCommand,
  feedCommand,
  importCommand,
  licenseCommand,
  lookupCommand,
  participationCommand,
  serveCommand,
  statementCommand,
  statsCommand,
  syncCommand,
} from "./cli/mod.ts";

const HELP = `Usage: pksn COMMAND [options]

pksn is a Private KSN node: it answers reputation look-ups for files, URLs,
domains, IP addresses and signing certificates from a local SQLite mirror.

Commands:
  serve          run the node's HTTP API
  import FILE    import reputation records (NDJSON or CSV)
  lookup TYPE VALUE
                 look an object up offline, as the API would answer
  db check       check the database's integrity and show counts
  license        register, list, revoke, rotate and import customers' licence keys
  statement      show or publish the KSN Statement clients must accept
  participation  show or set what this node may send upstream
  admin password set the operator's admin password (read from standard input)
  stats          list, show and export the detection statistics clients sent
  feed           publish a signed mirror feed; export and import offline bundles
  sync           bring the mirror up to its feed's version, or show how syncing goes

Run "pksn COMMAND --help" for a command's options.
`;

const COMMANDS: Readonly<Record<string, (args: string[]) => Promise<number>>> = {
  serve: serveCommand,
  import: importCommand,
  lookup: lookupCommand,
  license: licenseCommand,
  statement: statementCommand,
  participation: participationCommand,
  admin: adminCommand,
  stats: statsCommand,
  feed: feedCommand,
  sync: syncCommand,
  db: (args) => {
    if (args[0] === "check") return dbCheckCommand(args.slice(1));
    if (args[0] === "--help" || args[0] === "-h" || args.length === 0) {
      console.log('Usage: pksn db check [options]\n\nRun "pksn db check --help" for details.');
      return Promise.resolve(args.length === 0 ? 2 : 0);
    }
    throw new UsageError(`Unknown command "db ${args[0]}"; see "pksn db --help"`);
  },
};

/**
 * Whether a command writes only private files: the data folder (database,
 * node.secret, statistics, spool) or an export of it. `feed` publishes a tree
 * and bundles for any web server to serve, so it keeps the user's umask, except
 * `feed import-bundle`, which writes the data folder.
 */
function writesPrivateFiles(command: string, rest: string[]): boolean {
  return command !== "feed" || rest[0] === "import-bundle";
}

/** Sets the umask to 0o077 so every file and folder this process creates is 0600/0700. */
function restrictNewFiles(): void {
  if (Deno.build.os === "windows") return; // no umask; the data folder's ACL applies
  try {
    Deno.umask(0o077);
  } catch (err) {
    console.error(
      `pksn: Cannot set the umask to 077: ${(err as Error).message}; ` +
        "new files may be readable by other users until the next start tightens them",
    );
  }
}

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`Unknown command ${JSON.stringify(command)}; see "pksn --help"`);
    if (writesPrivateFiles(command, rest)) restrictNewFiles();
    return await run(rest);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(`pksn: ${err.message}`);
    return exitCodeOf(err.kind);
  }
}

/** The one place an outcome becomes an exit code: 2 for a wrong command line, else 1. */
function exitCodeOf(kind: ErrorKind): number {
  return kind === "usage" ? 2 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
