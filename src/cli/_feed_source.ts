/** `feed build --from-db`: the pksn database a build publishes, opened read-only. */
import { quote, StoreError } from "../core/mod.ts";
import { databasePath } from "../node/mod.ts";
import { openDatabase, schemaVersion } from "../store/mod.ts";
import type { DatabaseSync } from "../store/mod.ts";

/** What a build reads its entries from, and how to let go of it. */
export interface Source {
  db: DatabaseSync;
  close(): Promise<void>;
}

/** The database `path` names: the file itself, or the `pksn.db` of a data folder. */
async function databaseFile(path: string): Promise<string> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw new StoreError(`Cannot read --from-db ${quote(path)}: ${(err as Error).message}`);
  }
  if (!info.isDirectory) return path;
  const inside = databasePath(path);
  if (!await Deno.stat(inside).then((i) => i.isFile, () => false)) {
    throw new StoreError(
      `--from-db ${quote(path)} is a folder without a pksn.db: give a data folder or its database`,
    );
  }
  return inside;
}

/** Opens the database `given` names (a file, or a data folder's pksn.db) read-only. */
export async function openSourceDatabase(given: string): Promise<Source> {
  const path = await databaseFile(given);
  const db = openDatabase(path, { readOnly: true, cacheMiB: 16 });
  if (schemaVersion(db) < 1) {
    db.close();
    throw new StoreError(`${quote(path)} is not a pksn database`);
  }
  return { db, close: () => Promise.resolve(db.close()) };
}
