/** The `pksn` command: runs the command table and turns each outcome into an exit code. */
import { AppError, type ErrorKind } from "./core/mod.ts";
import { runPksn } from "./cli/mod.ts";

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    return await runPksn(args);
  } catch (err) {
    const refused = permissionRefusal(err);
    if (refused !== null) {
      console.error(`pksn: ${refused}`);
      return 1;
    }
    if (!(err instanceof AppError)) throw err;
    console.error(`pksn: ${err.message}`);
    return exitCodeOf(err.kind);
  }
}

/**
 * The installed program runs with only the folders its launcher grants (usr/bin/pksn names them
 * in PKSN_LAUNCHER_FOLDERS); Deno's own words for a refusal ("run again with the --allow-write
 * flag") would send an operator the wrong way, so say what this run may use and how to change it.
 */
function permissionRefusal(err: unknown): string | null {
  const cause = err instanceof AppError && err.cause !== undefined ? err.cause : err;
  if (!(cause instanceof Deno.errors.NotCapable)) return null;
  let folders: string | undefined;
  try {
    folders = Deno.env.get("PKSN_LAUNCHER_FOLDERS");
  } catch {
    folders = undefined;
  }
  const what = err instanceof AppError ? err.message : (err as Error).message;
  if (folders === undefined) return what;
  return `${
    what.replace(/,? ?run again with the --allow-\S+ flag/i, "")
  }. This run may ${folders} ` +
    "(the launcher's narrow permissions for serve): give the data folder with --data or " +
    "PKSN_DATA, and keep the files the configuration names in its own folder or the data folder";
}

/** The one place an outcome becomes an exit code: 2 for a wrong command line, else 1. */
function exitCodeOf(kind: ErrorKind): number {
  return kind === "usage" ? 2 : 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
