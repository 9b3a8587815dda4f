/**
 * The node's secret: 32 random bytes in `DATA/node.secret`, created on first use.
 * Licence keys are stored as HMAC-SHA-256 under it, so the database alone is not
 * enough to test guesses of a key offline. Losing the file invalidates every
 * stored key (they must be registered again), so back it up with the database.
 */
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { quote, StoreError } from "../core/mod.ts";
import { countLicences, type DatabaseSync, syncDir } from "../store/mod.ts";

const SECRET_BYTES = 32;

/** The secret file inside a data folder. */
export function secretPath(dataDir: string): string {
  return join(dataDir, "node.secret");
}

/**
 * Reads the node secret, creating it (mode 0600, atomically, durably) if it does
 * not exist. `db` is the node's database: when licences are registered but the
 * secret is gone, a new secret would turn every key into "unknown", so this
 * refuses and says to restore the file instead.
 */
export async function loadOrCreateSecret(dataDir: string, db: DatabaseSync): Promise<Uint8Array> {
  const path = secretPath(dataDir);
  try {
    const bytes = await Deno.readFile(path);
    if (bytes.length !== SECRET_BYTES) {
      throw new StoreError(
        `Node secret ${
          quote(path)
        } is damaged: expected ${SECRET_BYTES} bytes, found ${bytes.length}`,
      );
    }
    return bytes;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`Cannot read node secret ${quote(path)}: ${(err as Error).message}`);
    }
  }
  const registered = countLicences(db);
  if (registered > 0) {
    throw new StoreError(
      `Node secret ${quote(path)} is missing, but ${registered} licences are registered: ` +
        "restore node.secret from the backup taken with pksn.db (a new secret would make " +
        "every registered key unknown)",
    );
  }
  const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(temp, secret, { mode: 0o600, createNew: true });
    const file = await Deno.open(temp, { read: true });
    await file.sync();
    file.close();
    // A link fails if another process created the secret meanwhile; then use theirs.
    try {
      await Deno.link(temp, path);
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      return await Deno.readFile(path);
    }
    // The new name must survive a power cut too, before any key is hashed under it.
    await syncDir(dataDir);
    return secret;
  } catch (err) {
    throw new StoreError(`Cannot create node secret ${quote(path)}: ${(err as Error).message}`);
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

/** The stored form of a licence key: HMAC-SHA-256 under the node secret. */
export function keyHash(secret: Uint8Array, key: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", secret).update(key).digest());
}
