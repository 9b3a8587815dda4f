/**
 * The publisher's side of the root key set: creating version 1 and rotating to
 * version N+1, which the old root keys and the new ones both sign.
 */
import { join } from "node:path";
import type { SigningKey } from "./signing.ts";
import { toBase64 } from "../core/mod.ts";
import { readTextIfExists, ROOT_FILE, rootFile, writeFileAtomic } from "./feed_files.ts";
import {
  checkSchema,
  type Envelope,
  parseEnvelope,
  type Root,
  rootSchema,
  signEnvelope,
  verifyNextRoot,
} from "./metadata.ts";
import { SyncError } from "./sync_error.ts";

/** Public key ids and keys for a role. */
export interface RoleKeys {
  keys: { keyid: string; publicKey: Uint8Array }[];
  threshold: number;
}

function rootBody(
  version: number,
  { expires, rootRole, timestampRole }: {
    expires: number;
    rootRole: RoleKeys;
    timestampRole: RoleKeys;
  },
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
  const root: Root = {
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
  // Refused here rather than by every node that reads it (too many keys, say).
  return checkSchema(root, rootSchema, `Root version ${version}`);
}

/** Writes `root.N.json`, then the same bytes as `root.json`. */
async function writeRoot(out: string, envelope: Envelope<Root>): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(envelope, null, 1) + "\n");
  await writeFileAtomic(join(out, rootFile(envelope.signed.version)), [bytes]);
  await writeFileAtomic(join(out, ROOT_FILE), [bytes]);
}

/** What {@link initRoot} writes. */
export interface InitRootOptions {
  /** The root role's keys; each one signs. */
  signers: SigningKey[];
  rootThreshold: number;
  timestampRole: RoleKeys;
  /** When the root stops being trusted (ms). */
  expires: number;
}

/** What {@link rotateRoot} writes. */
export interface RotateRootOptions {
  /** Keys of the current root role; enough of them to meet its threshold. */
  oldSigners: SigningKey[];
  /** The new root role's keys; each one signs. */
  newSigners: SigningKey[];
  rootThreshold: number;
  timestampRole: RoleKeys;
  /** When the new root stops being trusted (ms). */
  expires: number;
}

/** Creates root version 1 in an empty feed tree, signed by every root key given. */
export async function initRoot(out: string, options: InitRootOptions): Promise<Root> {
  if (await readTextIfExists(join(out, ROOT_FILE)) !== null) {
    throw new SyncError(
      "root_exists",
      `${join(out, ROOT_FILE)} exists already; use "pksn feed rotate-root" to change keys`,
    );
  }
  const { signers, rootThreshold, timestampRole, expires } = options;
  const root = rootBody(1, {
    expires,
    rootRole: { keys: signers, threshold: rootThreshold },
    timestampRole,
  });
  const envelope = await signEnvelope(root, signers);
  await writeRoot(out, envelope);
  return root;
}

/**
 * Writes root version N+1 signed by `oldSigners` (keys of root N) and
 * `newSigners` (the new root keys), and checks it verifies as a client would.
 */
export async function rotateRoot(out: string, options: RotateRootOptions): Promise<Root> {
  const text = await readTextIfExists(join(out, ROOT_FILE));
  if (text === null) throw new SyncError("no_root", `${join(out, ROOT_FILE)} does not exist`);
  const current = parseEnvelope(text, rootSchema, ROOT_FILE).signed;
  const { oldSigners, newSigners } = options;
  const next = rootBody(current.version + 1, {
    expires: options.expires,
    rootRole: { keys: newSigners, threshold: options.rootThreshold },
    timestampRole: options.timestampRole,
  });
  const signers = [
    ...oldSigners,
    ...newSigners.filter((k) => !oldSigners.some((o) => o.keyid === k.keyid)),
  ];
  const envelope = await signEnvelope(next, signers);
  await verifyNextRoot(current, envelope, rootFile(next.version));
  await writeRoot(out, envelope);
  return next;
}
