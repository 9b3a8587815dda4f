/**
 * Which form of pksn the bench runs. By default the bundled form the appliance ships: one
 * JavaScript file made by `deno bundle` from src/main.ts, as scripts/compile.ts makes it, run
 * with the launcher's `--no-config --no-lock`; so memory and start-up are what a flashed box
 * sees (the source form loads and keeps about 12 MB more). BENCH_FORM=source runs src/main.ts as
 * `deno task start` does, which keeps file names in CPU profiles.
 */
import { join } from "node:path";
import { run } from "./processes.ts";

const ROOT = join(import.meta.dirname!, "..", "..");
// Set by prepareProgram for this process and the bench's own children: the steps' functions
// read it where they spawn pksn, rather than every step passing it down.
const PROGRAM_ENV = "PKSN_BENCH_PROGRAM";

/** The form the bench runs and what it spawns. */
export interface Program {
  form: "bundled" | "source";
  /** The program file: the bundle, or src/main.ts. */
  path: string;
}

/** Makes the bundle in `dir` (unless BENCH_FORM=source) and makes it the program to run. */
export async function prepareProgram(dir: string): Promise<Program> {
  const form = Deno.env.get("BENCH_FORM") === "source" ? "source" : "bundled";
  if (form === "source") {
    Deno.env.delete(PROGRAM_ENV);
    return { form, path: "src/main.ts" };
  }
  const path = join(dir, "pksn.js");
  const made = await run(
    "deno bundle",
    [Deno.execPath(), "bundle", "--quiet", "--platform", "deno", "src/main.ts", "-o", path],
    { cwd: ROOT, timeoutMs: 120_000 },
  );
  if (made.code !== 0) throw new Error(`deno bundle exited with ${made.code}:\n${made.output}`);
  Deno.env.set(PROGRAM_ENV, path);
  return { form, path };
}

/** `deno run` arguments that name the program, after any flags of the caller's. */
export function programArgs(): string[] {
  const bundle = Deno.env.get(PROGRAM_ENV);
  return bundle === undefined ? ["src/main.ts"] : ["--no-config", "--no-lock", bundle];
}
