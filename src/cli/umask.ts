/** The umask every command but those that publish files for others runs under. */

/** Sets the umask to 0o077 so every file and folder this process creates is 0600/0700. */
export function restrictNewFiles(): void {
  if (Deno.build.os === "windows") return; // no umask; the data folder's ACL applies
  try {
    Deno.umask(0o077);
  } catch (err) {
    console.error(
      `pksn: Cannot set the umask to 077: ${(err as Error).message}; ` +
        "new files may be readable by other users until the next start tightens them",
    );
  }
}
