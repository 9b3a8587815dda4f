/** Durability for plain files in the data folder. */

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
