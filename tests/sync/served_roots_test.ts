/**
 * A middle tier flashed with a newer root than its edges still serves every
 * older root.N.json they need to follow the chain, and only ones that the next
 * trusted root verifies against.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FeedServer,
  fileRecords,
  md5Of,
  startChild,
  syncOf,
  TestOrigin,
  verdictOf,
} from "./_feed.ts";
import { newKey } from "./_publisher.ts";
import { tempDir } from "../_helpers.ts";

Deno.test("an edge shipped with root 1 follows a core that shipped with root 2", async () => {
  await using origin = await TestOrigin.create();
  await using roots = await tempDir();
  const root1 = join(roots.path, "root1.json");
  await Deno.copyFile(origin.rootPath, root1);
  const next = await newKey();
  await origin.rotateRoot(origin.key, next);
  await origin.publishRecords(fileRecords(50), { key: next });
  await using server = new FeedServer(origin.tree);

  // The core is flashed later, with root 2: it never walks the chain itself.
  await using core = await startChild(server.url, origin.rootPath, {
    serveFeed: true,
    feedRequiresLicence: false,
  });
  await syncOf(core).runOnce();
  const served = join(core.dataDir, "sync", "feed");
  assert.equal(
    await Deno.readTextFile(join(served, "root.1.json")),
    await Deno.readTextFile(join(origin.tree, "root.1.json")),
  );

  await using edge = await startChild(`${core.url}/feed/`, root1);
  assert.equal((await syncOf(edge).runOnce()).to, 1);
  assert.equal((await verdictOf(edge, md5Of(3))).verdict, "malicious");
});

Deno.test("an older root that does not sign the next one is not served, and the sync goes on", async () => {
  await using origin = await TestOrigin.create();
  const next = await newKey();
  await origin.rotateRoot(origin.key, next);
  await origin.publishRecords(fileRecords(10), { key: next });
  // Someone swaps root.1.json at the origin for a root of other keys.
  await using other = await TestOrigin.create();
  await using server = new FeedServer(origin.tree);
  const foreign = await Deno.readTextFile(other.rootPath);
  server.tamper = (name) => name === "root.1.json" ? new Response(foreign) : undefined;
  await using core = await startChild(server.url, origin.rootPath, {
    serveFeed: true,
    feedRequiresLicence: false,
  });
  assert.equal((await syncOf(core).runOnce()).to, 1, "the core's own sync goes on");
  assert.ok(core.logLines.some((l) => /WARN .*Not serving "root\.1\.json".*signature/.test(l)));
  const served = join(core.dataDir, "sync", "feed", "root.1.json");
  await assert.rejects(Deno.stat(served), Deno.errors.NotFound);
});
