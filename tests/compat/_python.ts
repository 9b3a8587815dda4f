/** Runs the Python clients in tests/compat with Debian's own Python, whose packages they need. */
import { join } from "node:path";
import { ROOT } from "../_helpers.ts";

/** Debian's interpreter, where python3-requests, -aiohttp and -aiofiles install. */
const PYTHON = "/usr/bin/python3";

/** Runs `tests/compat/SCRIPT ARGS...`; returns its JSON lines, or throws with its stderr. */
export async function runPython(script: string, args: string[]): Promise<unknown[]> {
  const out = await new Deno.Command(PYTHON, {
    args: [join(ROOT, "tests/compat", script), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((err) => {
    throw new Error(
      `${PYTHON} is needed for the real-client tests (apt-get install python3): ${err}`,
    );
  });
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`${script} exited ${out.code}:\n${stderr}`);
  return new TextDecoder().decode(out.stdout).trim().split("\n").map((line) => JSON.parse(line));
}
