/**
 * The serve lock: `DATA/pksn.lock`, held with an exclusive OS file lock by the
 * one `pksn serve` on a data folder and holding its PID. The OS drops the lock
 * when the process ends, even on `kill -9`, so a stale file never blocks a
 * restart. Offline commands (import, license, ...) do not take it: they run
 * beside a serving node and coordinate through SQLite.
 */
import { join } from "node:path";
import { AppError, quote, StoreError } from "../core/mod.ts";

/** The lock file inside a data folder. */
export const LOCK_FILE = "pksn.lock";

/** A held serve lock. */
export interface DataDirLock extends Disposable {
  readonly path: string;
  /** Releases the lock (the file stays: removing it would race a new holder). */
  release(): void;
}

/**
 * Takes the serve lock of `dataDir`, creating the folder (0700) if needed. `purpose` names an
 * offline command that must not run beside a serving node, for its refusal ("Cannot PURPOSE").
 * 409 `data_dir_in_use`, naming the holder's PID, while another process holds it.
 */
export async function lockDataDir(
  dataDir: string,
  purpose?: string,
): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE);
  let file: Deno.FsFile;
  try {
    await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
    file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
  } catch (err) {
    throw new StoreError(`Cannot open lock file ${quote(path)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    if (!await file.tryLock(true)) {
      const holder = await readHolder(path);
      const who = holder === null ? "another pksn serve" : `pksn serve with PID ${holder}`;
      throw new AppError(
        "conflict",
        "data_dir_in_use",
        purpose === undefined
          ? `Cannot serve data folder ${quote(dataDir)}: ${who} is already serving it; stop that ` +
            "one first or give this one another --data folder"
          : `Cannot ${purpose} ${quote(dataDir)}: ${who} is serving it; stop it first`,
      );
    }
    await file.truncate(0);
    await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (err) {
    file.close();
    if (err instanceof AppError) throw err;
    throw new StoreError(`Cannot lock data folder ${quote(dataDir)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    file.close();
  };
  return { path, release, [Symbol.dispose]: release };
}

/** The PID the lock's holder wrote, or null when it is not there (yet). */
async function readHolder(path: string): Promise<number | null> {
  // The holder writes its PID just after locking; give it a moment.
  for (let attempt = 0; attempt < 5; attempt++) {
    const text = await Deno.readTextFile(path).catch(() => "");
    const pid = /^\d{1,10}$/.exec(text.trim())?.[0];
    if (pid !== undefined) return Number(pid);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}
