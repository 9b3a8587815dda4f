/**
 * The root of trust a run verifies the timestamp with: the shipped root, or
 * the newest one stored, moved forward along the source's signed root chain
 * (root.N+1.json, each signed by the keys of the one before).
 */
import { quote } from "../errors.ts";
import type { Logger } from "../log.ts";
import {
  MAX_METADATA_BYTES,
  readTextIfExists,
  ROOT_FILE,
  rootFile,
  writeFileAtomic,
} from "./feed_files.ts";
import type { FeedSource } from "./feed_source.ts";
import {
  isExpired,
  parseEnvelope,
  type Root,
  rootSchema,
  verifyNextRoot,
  verifyRole,
} from "./metadata.ts";
import { publishRoot } from "./served_tree.ts";
import { SyncError } from "./sync_error.ts";

// Root versions followed in one run: a hostile root.json cannot keep a run fetching.
const MAX_ROOT_STEPS = 64;

/** What {@link currentRoot} needs. */
export interface RootChainDeps {
  source: FeedSource;
  /** The text of the root.json shipped in the node's configuration. */
  shippedRoot: string;
  /** Where the newest verified root is kept (DATA/sync/root.json). */
  rootPath: string;
  /** The served tree each new root is published in, or null on a node that serves none. */
  served: string | null;
  now: () => number;
  log: Logger;
}

/** The newest root the node can trust, after following the source's rotations; unexpired. */
export async function currentRoot(deps: RootChainDeps): Promise<Root> {
  let root = await trustedRoot(deps);
  const latest = await sourceRootVersion(deps.source);
  const last = Math.min(latest, root.version + MAX_ROOT_STEPS);
  if (last < latest) {
    deps.log.warn(
      `The root.json of ${deps.source.label} is at version ${latest}; this run follows the ` +
        `chain to version ${last}, the next runs the rest`,
    );
  }
  while (root.version < last) {
    const name = rootFile(root.version + 1);
    const text = await deps.source.text(name, MAX_METADATA_BYTES);
    if (text === null) {
      throw new SyncError(
        "missing_file",
        `The root.json of ${deps.source.label} is at version ${latest}, but it has no ` +
          `${quote(name)}: the root chain cannot be followed`,
      );
    }
    const next = await verifyNextRoot(root, parseEnvelope(text, rootSchema, name), name);
    await writeFileAtomic(deps.rootPath, [new TextEncoder().encode(text)]);
    if (deps.served !== null) await publishRoot(deps.served, next.version, text);
    deps.log.info(`Root keys rotated to version ${next.version}`);
    root = next;
  }
  if (isExpired(root.expires, deps.now())) {
    throw new SyncError(
      "root_expired",
      `Root version ${root.version} expired at ${root.expires}; the publisher must rotate the root`,
    );
  }
  return root;
}

/** The newest root stored, else the shipped one. */
async function trustedRoot(deps: RootChainDeps): Promise<Root> {
  const shipped = parseEnvelope(deps.shippedRoot, rootSchema, "the configured sync.root");
  await verifyRole(shipped, shipped.signed, "root", "the configured sync.root");
  const storedText = await readTextIfExists(deps.rootPath);
  if (storedText === null) return shipped.signed;
  const stored = parseEnvelope(storedText, rootSchema, deps.rootPath).signed;
  return stored.version >= shipped.signed.version ? stored : shipped.signed;
}

/**
 * The version of the source's root.json, read for that number only (trust
 * comes from following the chain), or 0 when it has none. Asking for it
 * rather than probing for root.N+1.json works on servers that answer 403 for a
 * missing file, as S3 does without ListBucket.
 */
async function sourceRootVersion(source: FeedSource): Promise<number> {
  let text: string | null;
  try {
    text = await source.text(ROOT_FILE, MAX_METADATA_BYTES);
  } catch (err) {
    // No rotation information; a wrong key fails the timestamp next with the same answer.
    if (err instanceof SyncError && err.code === "unauthorized") return 0;
    throw err;
  }
  return text === null ? 0 : parseEnvelope(text, rootSchema, ROOT_FILE).signed.version;
}
