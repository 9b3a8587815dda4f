/**
 * The root of trust a run verifies the timestamp with: the shipped root, or
 * the newest one stored, moved forward along the source's signed root chain
 * (root.N+1.json, each signed by the keys of the one before).
 */
import { join } from "node:path";
import { type Logger, quote } from "../core/mod.ts";
import {
  isExpired,
  MAX_METADATA_BYTES,
  parseEnvelope,
  readTextIfExists,
  type Root,
  ROOT_FILE,
  rootFile,
  rootSchema,
  SyncError,
  verifyNextRoot,
  verifyRole,
  writeFileAtomic,
} from "../feed/mod.ts";
import type { FeedSource } from "./feed_source.ts";
import { publishRoot } from "./served_tree.ts";

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
  let { root, text: rootText } = await trustedRoot(deps);
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
    rootText = text;
  }
  if (deps.served !== null) await serveOlderRoots(deps, deps.served, rootText);
  if (isExpired(root.expires, deps.now())) {
    throw new SyncError(
      "root_expired",
      `Root version ${root.version} expired at ${root.expires}; the publisher must rotate the root`,
    );
  }
  return root;
}

/** The newest root stored, else the shipped one, with its text. */
async function trustedRoot(deps: RootChainDeps): Promise<{ root: Root; text: string }> {
  const shipped = parseEnvelope(deps.shippedRoot, rootSchema, "the configured sync.root");
  await verifyRole(shipped, shipped.signed, "root", "the configured sync.root");
  const storedText = await readTextIfExists(deps.rootPath);
  if (storedText === null) return { root: shipped.signed, text: deps.shippedRoot };
  const stored = parseEnvelope(storedText, rootSchema, deps.rootPath).signed;
  return stored.version >= shipped.signed.version
    ? { root: stored, text: storedText }
    : { root: shipped.signed, text: deps.shippedRoot };
}

/**
 * Fills in the older root.N.json files of the served tree. A downstream node
 * flashed with an older root than this node's needs each version after its
 * own to follow the chain; this node may never have fetched them (it shipped
 * with a newer root). Each older root is taken only if the next one, already
 * trusted, verifies as signed by it: the served chain stays one a client can walk.
 */
async function serveOlderRoots(deps: RootChainDeps, served: string, newest: string): Promise<void> {
  let later = parseEnvelope(newest, rootSchema, ROOT_FILE);
  const lowest = Math.max(1, later.signed.version - MAX_ROOT_STEPS);
  for (let version = later.signed.version - 1; version >= lowest; version--) {
    const name = rootFile(version);
    let text = await readTextIfExists(join(served, name));
    if (text === null) {
      try {
        text = await deps.source.text(name, MAX_METADATA_BYTES);
      } catch (err) {
        if (err instanceof SyncError && err.code === "unauthorized") return;
        throw err;
      }
      if (text === null) return;
      try {
        const older = parseEnvelope(text, rootSchema, name);
        await verifyNextRoot(older.signed, later, rootFile(version + 1));
      } catch (err) {
        // Only downstream nodes on that old root lose out; this node's own sync goes on.
        if (!(err instanceof SyncError)) throw err;
        deps.log.warn(`Not serving ${quote(name)} to downstream nodes: ${err.message}`);
        return;
      }
      await writeFileAtomic(join(served, name), [new TextEncoder().encode(text)]);
    }
    later = parseEnvelope(text, rootSchema, name);
  }
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
