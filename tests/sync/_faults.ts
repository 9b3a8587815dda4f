/**
 * Plumbing for the fault tests: a child already at version 1, checks of what a
 * node still serves, logs and metrics, bad answers for the feed server, and
 * feed files re-made and re-signed the way a faulty publisher would make them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { memoryLogger } from "../../src/core/log.ts";
import { openStore } from "../../src/node/node.ts";
import { canonicalJson } from "../../src/feed/canonical_json.ts";
import { TIMESTAMP_FILE, writeFileAtomic } from "../../src/feed/feed_files.ts";
import {
  type DeltaRef,
  type FileRef,
  type Manifest,
  manifestSchema,
  parseEnvelope,
  parseJson,
  signEnvelope,
  type Timestamp,
  timestampSchema,
} from "../../src/feed/metadata.ts";
import { readMirrorState } from "../../src/feed/mirror_state.ts";
import type { SigningKey } from "../../src/feed/signing.ts";
import type { StreamHeader } from "../../src/feed/stream_format.ts";
import { bufferSource, StreamReader } from "../../src/feed/stream_reader.ts";
import { StreamWriter } from "../../src/feed/stream_writer.ts";
import { SyncError } from "../../src/feed/sync_error.ts";
import type { Config } from "../../src/core/config.ts";
import { tempDir, type TestNode } from "../_helpers.ts";
import {
  addLicence,
  fileRecords,
  type Following,
  nameMatches,
  startChild,
  startFollowing,
  syncOf,
  type Tamper,
  type TestOrigin,
  verdictOf,
} from "./_feed.ts";

/** Publishes `records` as version 1 and starts a child that has synced it. */
export async function childAtVersion1(
  records: object[] = fileRecords(200),
  sync: Partial<Config["sync"]> = {},
  options: Parameters<typeof startChild>[3] = {},
): Promise<Following> {
  const following = await startFollowing(records, sync, options);
  try {
    assert.equal((await syncOf(following.child).runOnce()).to, 1);
  } catch (err) {
    await following[Symbol.asyncDispose]();
    throw err;
  }
  return following;
}

/** Asserts the node holds mirror `version` and answers `verdict` for `md5`. */
export async function assertServes(
  node: TestNode,
  version: number,
  md5: string,
  verdict: string,
): Promise<void> {
  assert.equal(readMirrorState(node.serving.node.db).version, version, "mirror version");
  assert.equal((await verdictOf(node, md5)).verdict, verdict, `verdict of ${md5}`);
}

/** Awaits a sync run that must fail with `code`, and returns its error. */
export async function failsWith(run: Promise<unknown>, code: string): Promise<SyncError> {
  try {
    await run;
  } catch (err) {
    assert.ok(err instanceof SyncError, `expected a SyncError, got ${err}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`the sync run succeeded; expected it to fail with ${code}`);
}

/** The one log line that matches every pattern. */
export function logLine(node: TestNode, ...patterns: RegExp[]): string {
  const found = node.logLines.filter((line) => patterns.every((p) => p.test(line)));
  assert.equal(
    found.length,
    1,
    `one log line matching ${patterns.join(" and ")}; the log:\n${node.logLines.join("\n")}`,
  );
  return found[0];
}

const licenceKeys = new WeakMap<TestNode, string>();

/** The `mirror.sync` part of the node's `GET /v1/node` (which needs a licence, made here). */
export async function nodeSyncReport(node: TestNode): Promise<{ state: string; version: number }> {
  let key = licenceKeys.get(node);
  if (key === undefined) {
    key = await addLicence(node, "Fault tests");
    licenceKeys.set(node, key);
  }
  return await mirrorSyncOf(node, key) as { state: string; version: number };
}

/** The `mirror.sync` part of the node's `GET /v1/node`, asked for with licence `key`. */
export async function mirrorSyncOf(
  node: TestNode,
  key: string,
): Promise<Record<string, unknown> | null> {
  const response = await fetch(`${node.url}/v1/node`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.mirror.sync;
}

/** The node's `/metrics` text. */
export async function metricsOf(node: TestNode): Promise<string> {
  const response = await fetch(`${node.url}/metrics`);
  assert.equal(response.status, 200);
  return await response.text();
}

/** Asserts the node's `/metrics` holds each sample line exactly as given. */
export async function assertMetrics(node: TestNode, ...samples: string[]): Promise<void> {
  const lines = (await metricsOf(node)).split("\n");
  for (const sample of samples) {
    assert.ok(
      lines.includes(sample),
      `metric ${sample}; got:\n${lines.filter((l) => l.startsWith("pksn_sync")).join("\n")}`,
    );
  }
}

/** A copy of `bytes` with the byte at `at` (the middle by default) inverted. */
export function flipByte(bytes: Uint8Array, at = bytes.length >> 1): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes);
  copy[at] ^= 0xff;
  return copy;
}

/** Serves `bytes` as a plain web server serves a file of that content (200, 206 or 416). */
export function serveBytes(bytes: Uint8Array<ArrayBuffer>, req: Request): Response {
  const range = /^bytes=(\d+)-$/.exec(req.headers.get("Range") ?? "");
  if (range === null) return new Response(bytes);
  const start = Number(range[1]);
  if (start >= bytes.length) return new Response(null, { status: 416 });
  return new Response(bytes.subarray(start), {
    status: 206,
    headers: { "Content-Range": `bytes ${start}-${bytes.length - 1}/${bytes.length}` },
  });
}

/** A tamper that answers `respond(name, request)` for the files `pattern` names, and serves the rest. */
export function answerFor(
  pattern: string | RegExp,
  respond: (name: string, req: Request) => Response,
): Tamper {
  return (name, req) => nameMatches(name, pattern) ? respond(name, req) : undefined;
}

/** A tamper that answers 404 for the files `pattern` names, as if they were not on the server. */
export function notFound(pattern: string | RegExp): Tamper {
  return answerFor(pattern, () => new Response("not found", { status: 404 }));
}

/** The feed tree's current signed timestamp and the manifest it points at. */
export async function readCurrent(
  tree: string,
): Promise<{ timestamp: Timestamp; manifest: Manifest }> {
  const text = await Deno.readTextFile(join(tree, TIMESTAMP_FILE));
  const timestamp = parseEnvelope(text, timestampSchema, TIMESTAMP_FILE).signed;
  const manifestText = await Deno.readTextFile(join(tree, timestamp.manifest.name));
  return { timestamp, manifest: parseJson(manifestText, manifestSchema, timestamp.manifest.name) };
}

/** Writes `bytes` under the content-addressed name `folder/prefix.SHA256.ext`. */
async function writeAddressed(
  tree: string,
  folder: string,
  prefix: string,
  ext: string,
  bytes: Uint8Array[],
): Promise<FileRef> {
  const temp = join(tree, folder, `.craft-${crypto.randomUUID()}`);
  const { sha256, length } = await writeFileAtomic(temp, bytes);
  const name = `${folder}/${prefix}.${sha256}.${ext}`;
  await Deno.rename(temp, join(tree, name));
  return { name, sha256, length };
}

/** Signs `timestamp` with `key` and makes it the tree's timestamp.json. */
export async function writeTimestamp(
  tree: string,
  timestamp: Timestamp,
  key: SigningKey,
): Promise<void> {
  const envelope = await signEnvelope(timestamp, [key]);
  await writeFileAtomic(join(tree, TIMESTAMP_FILE), [
    new TextEncoder().encode(JSON.stringify(envelope, null, 1) + "\n"),
  ]);
}

/**
 * Re-makes the current version's delta with a changed header (same records),
 * lists it in a new manifest and signs a new timestamp with `key`: what a
 * publisher with a bug would put out. Returns the new delta's reference.
 */
export async function recraftDelta(
  tree: string,
  key: SigningKey,
  change: (header: StreamHeader) => Omit<StreamHeader, "kind" | "records">,
): Promise<DeltaRef> {
  const { timestamp, manifest } = await readCurrent(tree);
  const old = manifest.deltas.find((d) => d.to === manifest.version);
  assert.ok(old, "the current version has a delta");
  const reader = new StreamReader(
    bufferSource(await Deno.readFile(join(tree, old.name))),
    old.name,
  );
  const writer = new StreamWriter("delta");
  // Same table order, so each record's attribute index stays valid.
  for (const a of reader.attributes) writer.attribute(a);
  for (let r = reader.next(); r !== null; r = reader.next()) writer.add(r);
  const header = change(reader.header);
  const file = await writeAddressed(
    tree,
    "deltas",
    `${old.from}-${old.to}`,
    "bin",
    writer.finish(header),
  );
  const delta: DeltaRef = { ...old, ...file, checksum: header.checksum };
  const crafted: Manifest = {
    ...manifest,
    deltas: manifest.deltas.map((d) => d === old ? delta : d),
  };
  const manifestRef = await writeAddressed(tree, "manifests", String(manifest.version), "json", [
    new TextEncoder().encode(canonicalJson(crafted)),
  ]);
  await writeTimestamp(tree, { ...timestamp, manifest: manifestRef }, key);
  return delta;
}

/**
 * Throws the origin's published history away and publishes `versions` from
 * version 1 again, under the same root and key, from a new publisher state.
 */
export async function republishHistory(
  origin: TestOrigin,
  versions: { records: object[]; snapshotEvery?: number }[],
): Promise<void> {
  for (const folder of ["manifests", "snapshots", "deltas"]) {
    await Deno.remove(join(origin.tree, folder), { recursive: true }).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
  await Deno.remove(join(origin.tree, TIMESTAMP_FILE));
  await using dir = await tempDir();
  const state = await openStore(dir.path, { cacheMiB: 8, log: memoryLogger() });
  try {
    for (const { records, snapshotEvery } of versions) {
      await origin.publishRecords(records, { state, snapshotEvery });
    }
  } finally {
    state.close();
  }
}

/**
 * Lists `change(manifest)` as the current version's manifest and signs a new
 * timestamp for it with `key`: a publisher that dropped or altered entries.
 */
export async function recraftManifest(
  tree: string,
  key: SigningKey,
  change: (manifest: Manifest) => Manifest,
): Promise<void> {
  const { timestamp, manifest } = await readCurrent(tree);
  const manifestRef = await writeAddressed(tree, "manifests", String(manifest.version), "json", [
    new TextEncoder().encode(canonicalJson(change(manifest))),
  ]);
  await writeTimestamp(tree, { ...timestamp, manifest: manifestRef }, key);
}
