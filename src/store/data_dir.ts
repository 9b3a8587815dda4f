/**
 * The data folder is for the node's user alone: it holds the admin password
 * hash, sessions, the node secret and customers' statistics. New files get
 * 0600/0700 from the umask `main.ts` sets; this tightens what an older version
 * (or a copy, or a restore) left open to others, each time a command opens it.
 */
import { join } from "node:path";
import { type Logger, quote } from "../core/mod.ts";

// Group and other permission bits: none of them may stay set.
const SHARED_BITS = 0o077;

/**
 * Walks `dir` once and removes group and other permissions from every file and
 * folder that has any, the folder itself included; returns how many it changed.
 * Symbolic links are neither followed nor changed. What it cannot change (another
 * user's file) gets a warning, not an error: the node still starts.
 */
export async function tightenDataDir(dir: string, log: Logger): Promise<number> {
  if (Deno.build.os === "windows") return 0; // no POSIX modes; the folder's ACL applies
  let fixed = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const path = pending.pop()!;
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // removed meanwhile
      log.warn(`Cannot check the mode of ${quote(path)}: ${(err as Error).message}`);
      continue;
    }
    if (info.isSymlink || info.mode === null) continue;
    if ((info.mode & SHARED_BITS) !== 0) {
      try {
        await Deno.chmod(path, info.mode & 0o700);
        fixed++;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) {
          log.warn(
            `Cannot make ${quote(path)} private to its owner: ${
              (err as Error).message
            }; other users may read it`,
          );
        }
      }
    }
    if (info.isDirectory) {
      try {
        for await (const entry of Deno.readDir(path)) pending.push(join(path, entry.name));
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) {
          log.warn(`Cannot list ${quote(path)} to check modes: ${(err as Error).message}`);
        }
      }
    }
  }
  if (fixed > 0) {
    log.info(
      `Tightened modes in data folder ${quote(dir)}: ${fixed} files and folders were ` +
        "open to other users",
    );
  }
  return fixed;
}
