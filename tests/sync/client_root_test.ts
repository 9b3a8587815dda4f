/**
 * How a child learns of root rotations: from the version in the source's
 * root.json, then root.N+1.json … each of which must exist. A server that
 * answers 403 for a missing file (S3 without ListBucket) is no obstacle.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rotateRoot } from "../../src/sync/feed_root.ts";
import { buildVersion } from "../../src/sync/publisher.ts";
import { generateKeyFile, parseKeyFile, type SigningKey } from "../../src/sync/signing.ts";
import {
  FeedServer,
  fileRecords,
  md5Of,
  serveFile,
  startChild,
  syncOf,
  T0,
  TestOrigin,
} from "./_feed.ts";
import { assertServes, failsWith, logLine } from "./_faults.ts";

const YEAR_MS = 365 * 86_400_000;

/** Answers as S3 does for a key it does not have when the reader may not list the bucket. */
async function s3Like(tree: string, name: string, req: Request): Promise<Response> {
  try {
    await Deno.stat(join(tree, name));
  } catch {
    return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403 });
  }
  return await serveFile(join(tree, name), req);
}

async function newKey(): Promise<SigningKey> {
  return await parseKeyFile(JSON.stringify(await generateKeyFile()), "new key");
}

/** Rotates the origin's root to `next` keys (signed by `previous`), timestamps by `next`. */
async function rotate(origin: TestOrigin, previous: SigningKey, next: SigningKey): Promise<void> {
  await rotateRoot(origin.tree, {
    oldSigners: [previous],
    newSigners: [next],
    rootThreshold: 1,
    timestampRole: { keys: [next], threshold: 1 },
    expires: T0 + YEAR_MS,
  });
}

function publishWith(origin: TestOrigin, key: SigningKey): Promise<unknown> {
  return buildVersion({
    out: origin.tree,
    state: origin.state,
    source: origin.source,
    timestampKeys: [key],
    now: T0,
    snapshotEvery: 10,
    deltaRetentionSeconds: 7 * 86_400,
    expiresSeconds: 86_400,
    minPollSeconds: 0,
  });
}

Deno.test("a child syncs from a server that answers 403 for missing files, rotation included", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(200));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  server.tamper = (name, req) => s3Like(origin.tree, name, req);
  await using child = await startChild(server.url, join(origin.tree, "root.1.json"));

  assert.equal((await syncOf(child).runOnce()).to, 1);
  assert.equal(server.count("root.2.json"), 0, "no probing past the version root.json names");

  const key = await newKey();
  await rotate(origin, origin.key, key);
  await origin.setRecords(fileRecords(200, "phishing"));
  await publishWith(origin, key);
  const result = await syncOf(child).runOnce();
  assert.deepEqual([result.to, result.via], [2, ["delta"]]);
  logLine(child, /Root keys rotated to version 2/);
  await assertServes(child, 2, md5Of(3), "phishing");
  assert.equal(server.count("root.3.json"), 0);
  assert.equal((await syncOf(child).runOnce()).outcome, "current");
});

Deno.test("a 403 without sync.key set says the server wants credentials", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(20));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  server.tamper = () => new Response("denied", { status: 403 });
  await using child = await startChild(server.url, origin.rootPath);

  const err = await failsWith(syncOf(child).runOnce(), "unauthorized");
  assert.match(
    err.message,
    /"http:\/\/127\.0\.0\.1:\d+\/timestamp\.json" answered 403: the server wants credentials; set sync\.key to this node's licence key at the parent/,
  );
});

Deno.test("a source without root.json means no rotation: the child syncs on its stored root", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(20));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  server.tamper = (name) =>
    name === "root.json" ? new Response("not found", { status: 404 }) : undefined;
  await using child = await startChild(server.url, origin.rootPath);

  assert.equal((await syncOf(child).runOnce()).to, 1);
  assert.equal(server.count(/^root\.\d+\.json$/), 0);
});

Deno.test("a root.json ahead of the root.N.json files fails with missing_file", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(20));
  await origin.publish();
  await using server = new FeedServer(origin.tree);
  // Only its version is read: a claim the chain cannot back.
  const claimed = JSON.parse(await Deno.readTextFile(origin.rootPath));
  claimed.signed.version = 1_000_000;
  server.tamper = (name) =>
    name === "root.json" ? new Response(JSON.stringify(claimed)) : undefined;
  await using child = await startChild(server.url, origin.rootPath);

  const err = await failsWith(syncOf(child).runOnce(), "missing_file");
  assert.match(err.message, /is at version 1000000, but it has no "root\.2\.json"/);
  assert.equal(server.count(/^root\.\d+\.json$/), 1, "one look for the next version, no more");
  await assertServes(child, 0, md5Of(3), "unknown");
});

Deno.test("a child follows at most 64 root versions a run and the rest on the next", async () => {
  await using origin = await TestOrigin.create();
  await origin.setRecords(fileRecords(20));
  await origin.publish();
  // Same keys throughout, so the timestamp verifies whichever version the child reached.
  for (let n = 0; n < 69; n++) await rotate(origin, origin.key, origin.key);
  await using server = new FeedServer(origin.tree);
  await using child = await startChild(server.url, join(origin.tree, "root.1.json"));

  assert.equal((await syncOf(child).runOnce()).to, 1);
  logLine(child, /WARN/, /is at version 70; this run follows the chain to version 65/);
  logLine(child, /Root keys rotated to version 65/);
  assert.equal(server.count(/^root\.\d+\.json$/), 64);

  await syncOf(child).runOnce();
  logLine(child, /Root keys rotated to version 70/);
  const stored = JSON.parse(await Deno.readTextFile(join(child.dataDir, "sync", "root.json")));
  assert.equal(stored.signed.version, 70);
});
