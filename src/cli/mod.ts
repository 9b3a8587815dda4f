/**
 * The `pksn` command line: one table of commands, each with its options and help. `main.ts`
 * runs it and turns its outcome into an exit code.
 */
export { runPksn } from "./pksn.ts";
