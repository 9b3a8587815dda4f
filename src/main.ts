/** The `pksn` command: runs the command table and turns each outcome into an exit code. */
import { AppError, type ErrorKind } from "./core/mod.ts";
import { runPksn } from "./cli/mod.ts";

/** Runs the CLI with `args` and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    return await runPksn(args);
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
