/**
 * DATA/sync/staging: partial downloads (`SHA256.part`), verified files waiting
 * to be applied (`SHA256`) and unpacked offline bundles (`bundle-*`). Runs keep
 * it from growing: what no current manifest names and what a killed process
 * left behind is removed.
 */
import { join } from "node:path";
import { type Logger, quote } from "../core/mod.ts";

const BUNDLE_PREFIX = "bundle-";
// Held locked by the process using the bundle folder it sits in.
const BUNDLE_LOCK = ".lock";
// A folder this young may be one whose owner has not taken its lock yet.
const BUNDLE_GRACE_MS = 60_000;

/** A private folder for an unpacked bundle, locked while its owner lives. */
export interface BundleDir {
  path: string;
  /** Unlocks and removes the folder. */
  release(): Promise<void>;
}

/** Makes a new bundle folder under `staging` and locks it against {@link removeLeftoverBundles}. */
export async function makeBundleDir(staging: string): Promise<BundleDir> {
  await Deno.mkdir(staging, { recursive: true });
  const path = await Deno.makeTempDir({ dir: staging, prefix: BUNDLE_PREFIX });
  let lock: Deno.FsFile;
  try {
    lock = await Deno.open(join(path, BUNDLE_LOCK), { write: true, create: true });
    await lock.lock(true);
  } catch (err) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
    throw err;
  }
  let held = true;
  return {
    path,
    async release(): Promise<void> {
      if (!held) return;
      held = false;
      await Deno.remove(path, { recursive: true }).catch(() => {});
      lock.close();
    },
  };
}

/**
 * Removes bundle folders that no live process holds: those of an import that
 * was killed. Call under the sync lock; a folder in use (another process's
 * import waiting for that lock, or this run's own source) stays.
 */
export async function removeLeftoverBundles(
  staging: string,
  log: Logger,
  now: number = Date.now(),
): Promise<void> {
  for (const entry of await listDir(staging)) {
    if (!entry.isDirectory || !entry.name.startsWith(BUNDLE_PREFIX)) continue;
    const dir = join(staging, entry.name);
    try {
      if (!(await isLeftover(dir, now))) continue;
      await Deno.remove(dir, { recursive: true });
      log.info(`Removed the unpacked bundle ${quote(dir)} left by an import that did not finish`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue;
      log.warn(`Cannot remove the leftover bundle folder ${quote(dir)}: ${(err as Error).message}`);
    }
  }
}

async function isLeftover(dir: string, now: number): Promise<boolean> {
  const lockPath = join(dir, BUNDLE_LOCK);
  let lock: Deno.FsFile;
  try {
    lock = await Deno.open(lockPath, { read: true, write: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    // No lock file: killed before taking it, or being made this instant.
    return now - ((await Deno.stat(dir)).mtime?.getTime() ?? now) > BUNDLE_GRACE_MS;
  }
  try {
    if (!(await lock.tryLock(true))) return false;
    // Free, but just made: its owner may be between creating the file and locking it.
    return now - ((await lock.stat()).mtime?.getTime() ?? now) > BUNDLE_GRACE_MS;
  } finally {
    lock.close();
  }
}

/**
 * After a successful run: removes verified files (applied or served by now)
 * and partial downloads of anything the current manifest does not name.
 * Partial downloads it names stay for the next run to resume.
 */
export async function pruneStaging(staging: string, wanted: ReadonlySet<string>): Promise<void> {
  for (const entry of await listDir(staging)) {
    if (!entry.isFile) continue;
    const sha256 = entry.name.endsWith(".part") ? entry.name.slice(0, -".part".length) : null;
    if (sha256 !== null && wanted.has(sha256)) continue;
    await Deno.remove(join(staging, entry.name)).catch(() => {});
  }
}

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}
