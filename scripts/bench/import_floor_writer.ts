/**
 * The floor under the import figure: the SQLite writes of an import alone. It gives the rows the
 * bench's import stored (read back from its database, in an order unrelated to their keys, as a
 * file gives them) to the import's own ImportWriter in a fresh data folder, in the import's
 * batches and in one transaction, and times only the writer's calls and the commit: staging each
 * row with its line, moving them into the entry table in key order, committing. No parsing,
 * checks, keys or repeat handling, so an import cannot be faster than this on this machine
 * without another way of writing.
 *
 * Usage: deno run -A import_floor_writer.ts SOURCE_DB SCRATCH_DIR
 * Prints one line: IMPORT_FLOOR {"keys":...,"writeSeconds":...,"moveSeconds":...,"commitSeconds":...}
 */
import { DatabaseSync } from "node:sqlite";
import { DEFAULTS } from "../../src/core/config.ts";
import { createLogger } from "../../src/core/mod.ts";
import { openStore } from "../../src/node/mod.ts";
// Rows per write as the import buffers them, each batch sorted by key prefix.
import { BATCH_ROWS } from "../../src/feeds/_import_rows.ts";
import { keyPrefix } from "../../src/reputation/mod.ts";
import { type EntryRow, ImportWriter, ORIGIN_MIRROR } from "../../src/store/mod.ts";

/** What the floor measured. */
export interface ImportFloorTimes {
  keys: number;
  /** ImportWriter.write over every batch: staging the rows and logging their lines. */
  writeSeconds: number;
  /** ImportWriter.finishWrites: the staged rows into the entry table in key order. */
  moveSeconds: number;
  commitSeconds: number;
}

async function main(sourcePath: string, scratchDir: string): Promise<ImportFloorTimes> {
  const source = new DatabaseSync(sourcePath, { readOnly: true });
  // Bytes 9 on of a key are unrelated to its first ones (a digest, a hashed name), so this
  // order scatters the keys as an input file does. The sort is SQLite's, outside the timing.
  const read = source.prepare(
    "SELECT e.key, a.verdict, a.threat, a.categories, a.ttl, a.source, e.first_seen, " +
      "e.last_seen FROM entry AS e JOIN attr AS a ON a.id = e.attr WHERE e.origin = 0 " +
      "ORDER BY substr(e.key, 9)",
  );
  const db = await openStore(scratchDir, {
    cacheMiB: DEFAULTS.store.importCacheMiB,
    log: createLogger("warn"),
  });
  const times: ImportFloorTimes = { keys: 0, writeSeconds: 0, moveSeconds: 0, commitSeconds: 0 };
  try {
    using writer = new ImportWriter(db, ORIGIN_MIRROR);
    db.exec("BEGIN IMMEDIATE");
    let batch: EntryRow[] = [];
    let line = 0;
    const write = (): void => {
      batch.sort((a, b) => keyPrefix(a.key) - keyPrefix(b.key));
      const lines = batch.map(() => ++line);
      const started = performance.now();
      writer.write(batch, lines);
      times.writeSeconds += (performance.now() - started) / 1000;
      times.keys += batch.length;
      batch = [];
    };
    for (const row of read.iterate() as Iterable<Omit<EntryRow, "origin">>) {
      batch.push({ ...row, origin: ORIGIN_MIRROR });
      if (batch.length === BATCH_ROWS) write();
    }
    if (batch.length > 0) write();
    let started = performance.now();
    writer.finishWrites();
    times.moveSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    db.exec("COMMIT");
    times.commitSeconds = (performance.now() - started) / 1000;
  } finally {
    db.close();
    source.close();
  }
  return times;
}

if (import.meta.main) {
  const [sourcePath, scratchDir] = Deno.args;
  if (sourcePath === undefined || scratchDir === undefined) {
    console.error("Usage: import_floor_writer.ts SOURCE_DB SCRATCH_DIR");
    Deno.exit(2);
  }
  console.log(`IMPORT_FLOOR ${JSON.stringify(await main(sourcePath, scratchDir))}`);
}
