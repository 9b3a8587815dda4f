/**
 * How a child learns of root rotations: from the version in the source's
 * root.json, then root.N+1.json … each of which must exist. A server that
 * answers 403 for a missing file (S3 without ListBucket) is no obstacle.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FeedServer,
  fileRecords,
  md5Of,
  serveFile,
  startChild,
  syncOf,
  TestOrigin,
} from "./_feed.ts";
import { answerFor, assertServes, failsWith, logLine, notFound } from "./_faults.ts";
import { newKey } from "./_publisher.ts";

/** Answers as S3 does for a key it does not have when the reader may not list the bucket. */
async function s3Like(tree: string, name: string, req: Request): Promise<Response> {
  try {
    await Deno.stat(join(tree, name));
  } catch {
    return new Response("<Error><Code>AccessDenied</Code></Error>", { status: 403 });
  }
  return await serveFile(join(tree, name), req);
}

Deno.test("a child syncs from a server that answers 403 for missing files, rotation included", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(200));
  await using server = new FeedServer(origin.tree);
  server.tamper = (name, req) => s3Like(origin.tree, name, req);
  await using child = await startChild(server.url, join(origin.tree, "root.1.json"));

  assert.equal((await syncOf(child).runOnce()).to, 1);
  assert.equal(server.count("root.2.json"), 0, "no probing past the version root.json names");

  const key = await newKey();
  await origin.rotateRoot(origin.key, key);
  await origin.publishRecords(fileRecords(200, "phishing"), { key });
  const result = await syncOf(child).runOnce();
  assert.deepEqual([result.to, result.via], [2, ["delta"]]);
  logLine(child, /Root keys rotated to version 2/);
  await assertServes(child, 2, md5Of(3), "phishing");
  assert.equal(server.count("root.3.json"), 0);
  assert.equal((await syncOf(child).runOnce()).outcome, "current");
});

Deno.test("a 403 without sync.key set says the server wants credentials", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(20));
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
  await using origin = await TestOrigin.atVersion1(fileRecords(20));
  await using server = new FeedServer(origin.tree);
  server.tamper = notFound("root.json");
  await using child = await startChild(server.url, origin.rootPath);

  assert.equal((await syncOf(child).runOnce()).to, 1);
  assert.equal(server.count(/^root\.\d+\.json$/), 0);
});

Deno.test("a root.json ahead of the root.N.json files fails with missing_file", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(20));
  await using server = new FeedServer(origin.tree);
  // Only its version is read: a claim the chain cannot back.
  const claimed = JSON.parse(await Deno.readTextFile(origin.rootPath));
  claimed.signed.version = 1_000_000;
  server.tamper = answerFor("root.json", () => new Response(JSON.stringify(claimed)));
  await using child = await startChild(server.url, origin.rootPath);

  const err = await failsWith(syncOf(child).runOnce(), "missing_file");
  assert.match(err.message, /is at version 1000000, but it has no "root\.2\.json"/);
  assert.equal(server.count(/^root\.\d+\.json$/), 1, "one look for the next version, no more");
  await assertServes(child, 0, md5Of(3), "unknown");
});

Deno.test("a child follows at most 64 root versions a run and the rest on the next", async () => {
  await using origin = await TestOrigin.atVersion1(fileRecords(20));
  // Same keys throughout, so the timestamp verifies whichever version the child reached.
  for (let n = 0; n < 69; n++) await origin.rotateRoot(origin.key, origin.key);
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
