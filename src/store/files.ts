/** Durability and existence checks for plain files in the data folder. */

/** Whether anything exists at `path` (links are not followed); other errors are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Fsyncs a folder, so a file just created or renamed in it survives a power cut,
 * not only its contents.
 */
export async function syncDir(path: string): Promise<void> {
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}
