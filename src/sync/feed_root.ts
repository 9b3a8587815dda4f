/**
 * The publisher's side of the root key set: creating version 1 and rotating to
 * version N+1, which the old root keys and the new ones both sign.
 */
import { join } from "node:path";
import { type SigningKey, toBase64 } from "./signing.ts";
import { readTextIfExists, ROOT_FILE, rootFile, writeFileAtomic } from "./feed_files.ts";
import { parseEnvelope, type Root, rootSchema, signEnvelope, verifyNextRoot } from "./metadata.ts";
import { SyncError } from "./sync_error.ts";

/** Public key ids and keys for a role. */
export interface RoleKeys {
  keys: { keyid: string; publicKey: Uint8Array }[];
  threshold: number;
}

function rootBody(
  version: number,
  expires: number,
  rootRole: RoleKeys,
  timestampRole: RoleKeys,
): Root {
  const keys: Root["keys"] = {};
  for (const k of [...rootRole.keys, ...timestampRole.keys]) {
    keys[k.keyid] = { keytype: "ed25519", public: toBase64(k.publicKey) };
  }
  for (const [name, role] of [["root", rootRole], ["timestamp", timestampRole]] as const) {
    if (role.threshold > role.keys.length) {
      throw new SyncError(
        "bad_threshold",
        `The ${name} role has ${role.keys.length} key(s); a threshold of ${role.threshold} can never be met`,
      );
    }
  }
  return {
    type: "root",
    version,
    expires: new Date(expires).toISOString(),
    keys,
    roles: {
      root: { keyids: rootRole.keys.map((k) => k.keyid), threshold: rootRole.threshold },
      timestamp: {
        keyids: timestampRole.keys.map((k) => k.keyid),
        threshold: timestampRole.threshold,
      },
    },
  };
}

async function writeRoot(out: string, version: number, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  await writeFileAtomic(join(out, rootFile(version)), [bytes]);
  await writeFileAtomic(join(out, ROOT_FILE), [bytes]);
}

/** Creates root version 1 in an empty feed tree, signed by every root key given. */
export async function initRoot(
  out: string,
  signers: SigningKey[],
  rootThreshold: number,
  timestampRole: RoleKeys,
  expires: number,
): Promise<Root> {
  if (await readTextIfExists(join(out, ROOT_FILE)) !== null) {
    throw new SyncError(
      "root_exists",
      `${join(out, ROOT_FILE)} exists already; use "pksn feed rotate-root" to change keys`,
    );
  }
  const root = rootBody(1, expires, { keys: signers, threshold: rootThreshold }, timestampRole);
  const envelope = await signEnvelope(root, signers);
  await writeRoot(out, 1, JSON.stringify(envelope, null, 1) + "\n");
  return root;
}

/**
 * Writes root version N+1 signed by `oldSigners` (keys of root N) and
 * `newSigners` (the new root keys), and checks it verifies as a client would.
 */
export async function rotateRoot(
  out: string,
  oldSigners: SigningKey[],
  newSigners: SigningKey[],
  rootThreshold: number,
  timestampRole: RoleKeys,
  expires: number,
): Promise<Root> {
  const text = await readTextIfExists(join(out, ROOT_FILE));
  if (text === null) throw new SyncError("no_root", `${join(out, ROOT_FILE)} does not exist`);
  const current = parseEnvelope(text, rootSchema, ROOT_FILE).signed;
  const next = rootBody(
    current.version + 1,
    expires,
    { keys: newSigners, threshold: rootThreshold },
    timestampRole,
  );
  const signers = [
    ...oldSigners,
    ...newSigners.filter((k) => !oldSigners.some((o) => o.keyid === k.keyid)),
  ];
  const envelope = await signEnvelope(next, signers);
  await verifyNextRoot(current, envelope, rootFile(next.version));
  await writeRoot(out, next.version, JSON.stringify(envelope, null, 1) + "\n");
  return next;
}
