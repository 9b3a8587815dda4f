/**
 * `/admin/api/upgrade`: the node's half of an appliance upgrade. The node stores the uploaded
 * bundle for the appliance's root-owned pksn-upgrade and shows the status file both write.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { VERSION } from "../../src/core/mod.ts";
import { UpgradeSpool } from "../../src/upgrade/mod.ts";
import { startTestNode, tempDir } from "../_helpers.ts";
import { adminSession, api, assertError } from "./_admin.ts";

const BUNDLE = new TextEncoder().encode("signed manifest and root image bytes\n".repeat(1000));

function stream(bytes: Uint8Array<ArrayBuffer>): ReadableStream<Uint8Array> {
  return new Blob([bytes]).stream();
}

Deno.test("an upgrade bundle uploaded through the admin API is left whole for the appliance, with its status", async () => {
  await using node = await startTestNode({ config: { upgrade: { enabled: true } } });
  const { cookie, csrf } = await adminSession(node);
  const upload = (body: BodyInit, type = "application/octet-stream"): Promise<Response> =>
    fetch(`${node.url}/admin/api/upgrade`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf, "content-type": type },
      body,
    });
  const dir = join(node.dataDir, "upgrade");

  const before = await api(node, "/admin/api/upgrade", { cookie });
  assert.equal(before.status, 200);
  assert.deepEqual(before.body, {
    running: VERSION,
    status: null,
    problem: null,
    acceptsUpload: true,
  });

  assertError(
    await api(node, "/admin/api/upgrade", { method: "POST", cookie }),
    403,
    "csrf_failed",
  );
  const wrongType = await upload("x", "application/json");
  assert.equal(wrongType.status, 415);
  assert.equal((await wrongType.json()).error.code, "unsupported_media_type");
  const empty = await upload(new Uint8Array());
  assert.equal(empty.status, 400);
  assert.equal((await empty.json()).error.code, "upgrade_empty");

  const res = await upload(BUNDLE);
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  assert.equal(body.status.state, "uploaded");
  assert.equal(body.status.from, VERSION);
  assert.match(body.status.message, new RegExp(`Received ${BUNDLE.length} bytes`));
  assert.deepEqual(await Deno.readFile(join(dir, "bundle")), BUNDLE, "stored byte for byte");
  await assert.rejects(Deno.stat(join(dir, "bundle.part")), Deno.errors.NotFound);
  const onDisk = JSON.parse(await Deno.readTextFile(join(dir, "status.json")));
  assert.deepEqual(onDisk, body.status, "the status file is what the answer says");

  const second = await upload(BUNDLE);
  assert.equal(second.status, 409);
  assert.match((await second.json()).error.message, /waiting for the appliance to apply it/);
  assert.equal((await api(node, "/admin/api/upgrade", { cookie })).body.acceptsUpload, false);

  // The appliance picks it up and reports its progress in the same file.
  await Deno.remove(join(dir, "bundle"));
  const writing = {
    state: "writing",
    message: "Writing 0.6.0 into root slot b",
    at: "2026-12-03T10:00:00Z",
    from: VERSION,
    to: "0.6.0",
    slot: "b",
  };
  await Deno.writeTextFile(join(dir, "status.json"), JSON.stringify(writing));
  const during = await api(node, "/admin/api/upgrade", { cookie });
  assert.deepEqual(during.body.status, writing);
  assert.equal(during.body.acceptsUpload, false);
  const busy = await upload(BUNDLE);
  assert.equal(busy.status, 409);
  assert.equal((await busy.json()).error.message, "An upgrade is writing; wait until it ends");

  await Deno.writeTextFile(
    join(dir, "status.json"),
    JSON.stringify({ ...writing, state: "trial", message: "Booted 0.6.0 on trial" }),
  );
  const trial = await upload(BUNDLE);
  assert.equal(trial.status, 409);
  assert.match((await trial.json()).error.message, /0\.6\.0 is on trial until it is committed/);

  await Deno.writeTextFile(
    join(dir, "status.json"),
    JSON.stringify({ ...writing, state: "failed", message: "The signature does not verify" }),
  );
  const retry = await upload(BUNDLE);
  assert.equal(retry.status, 202, "after a failure a new bundle is taken");
  await retry.body?.cancel();
});

Deno.test("a node without upgrade.enabled takes no upgrade bundle and says why", async () => {
  await using node = await startTestNode();
  const { cookie } = await adminSession(node);
  const res = await api(node, "/admin/api/upgrade", { cookie });
  assertError(res, 404, "upgrade_not_enabled");
  assert.match(JSON.stringify(res.body), /upgrade\.enabled/);
  assertError(await api(node, "/admin/api/upgrade"), 401, "admin_auth_required");
});

Deno.test("the upgrade spool bounds the upload, keeps no partial file and reports a damaged status file", async () => {
  await using dir = await tempDir();
  let now = Date.parse("2026-12-03T10:00:00Z");
  const spool = new UpgradeSpool({ dir: dir.path, maxBytes: 1000, clock: { now: () => now } });

  await assert.rejects(
    spool.accept(stream(new Uint8Array(1001))),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, "upgrade_too_large");
      assert.match(err.message, /larger than 1000 bytes \(upgrade\.maxMiB allows\)/);
      return true;
    },
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)], [], "nothing is left of a refused upload");
  assert.equal((await spool.report()).acceptsUpload, true);

  // A crash mid-upload leaves bundle.part; the next upload replaces it.
  await Deno.writeTextFile(join(dir.path, "bundle.part"), "half");
  await spool.accept(stream(new Uint8Array(1000).fill(7)));
  assert.deepEqual(await Deno.readFile(join(dir.path, "bundle")), new Uint8Array(1000).fill(7));

  // Nobody picks the bundle up (not on the appliance image): after a minute, the report says so.
  await Deno.utime(join(dir.path, "bundle"), now / 1000, now / 1000);
  assert.equal((await spool.report()).problem, null);
  now += 61_000;
  assert.match((await spool.report()).problem ?? "", /waited 61 s and nothing has picked it up/);

  await Deno.writeTextFile(join(dir.path, "status.json"), '{"state":"exploded"}');
  const damaged = await spool.report();
  assert.equal(damaged.status, null);
  assert.match(damaged.problem ?? "", /status\.json" is not an upgrade status: state:/);
  await Deno.writeTextFile(join(dir.path, "status.json"), "{");
  assert.match((await spool.report()).problem ?? "", /is not JSON/);
});

Deno.test("two upgrade uploads at once: one is stored, the other refused, and the bundle is whole", async () => {
  await using dir = await tempDir();
  const spool = new UpgradeSpool({ dir: dir.path, maxBytes: 1 << 20, clock: { now: Date.now } });
  const first = new Uint8Array(100_000).fill(1);
  const second = new Uint8Array(100_000).fill(2);
  const outcomes = await Promise.allSettled([
    spool.accept(stream(first)),
    spool.accept(stream(second)),
  ]);
  assert.deepEqual(outcomes.map((o) => o.status).sort(), ["fulfilled", "rejected"]);
  const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
  assert.match(refused.reason.message, /Another upgrade bundle is being uploaded/);
  const stored = await Deno.readFile(join(dir.path, "bundle"));
  assert.ok(stored.every((b) => b === stored[0]), "one upload's bytes, not a mix");
});
