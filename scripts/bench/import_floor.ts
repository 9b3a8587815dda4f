/**
 * The floor under the import figure (import_floor_writer.ts): the import's SQLite writes alone,
 * in a process of their own with the V8 flags the import runs with. An import target above the
 * floor's rate cannot be met by making parsing and checking cheaper, nor by moving them to
 * another thread; only another way of writing, or a faster machine, would meet it.
 */
import { join } from "node:path";
import { serveV8Flags } from "./node.ts";
import { run } from "./processes.ts";
import type { Paths } from "./steps.ts";
import type { ImportFloorTimes } from "./import_floor_writer.ts";

export type { ImportFloorTimes };

const ROOT = join(import.meta.dirname!, "..", "..");
const HERE = import.meta.dirname!;

/** Runs the floor on the database the bench's import wrote, in a scratch folder it then deletes. */
export async function measureImportFloor(
  paths: Paths,
  scratchDir: string,
  records: number,
): Promise<ImportFloorTimes> {
  await Deno.remove(scratchDir, { recursive: true }).catch(() => {});
  try {
    const { code, output } = await run("import floor", [
      Deno.execPath(),
      "run",
      "-A",
      ...await serveV8Flags(),
      join(HERE, "import_floor_writer.ts"),
      join(paths.data, "pksn.db"),
      scratchDir,
    ], { cwd: ROOT, timeoutMs: 120_000 + records / 10 });
    const line = /^IMPORT_FLOOR (.*)$/m.exec(output);
    if (code !== 0 || line === null) {
      throw new Error(`the import floor exited with ${code}:\n${output.slice(-4000)}`);
    }
    return JSON.parse(line[1]) as ImportFloorTimes;
  } finally {
    await Deno.remove(scratchDir, { recursive: true }).catch(() => {});
  }
}

/** Its time in seconds: writes, ordered move and commit. */
export function importFloorSeconds(t: ImportFloorTimes): number {
  return t.writeSeconds + t.moveSeconds + t.commitSeconds;
}
