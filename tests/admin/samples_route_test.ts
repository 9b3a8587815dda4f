/** `GET /admin/api/samples`: what the quarantine keeps, and which samples wait for the parent. */
import assert from "node:assert/strict";
import { AdminAuth } from "../../src/admin/mod.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { api, assertError, logIn, PASSWORD } from "./_admin.ts";
import { bytesOf, sampleNode, upload } from "../stats/_samples.ts";
import { runCli } from "../_helpers.ts";

Deno.test("GET /admin/api/samples lists the kept samples newest first, with size, detection and whether each waits for the parent", async () => {
  // A parent that never answers: every sample stays queued in the spool.
  await using sampled = await sampleNode({
    config: {
      upstream: { url: "http://127.0.0.1:9", key: "node-key-at-parent" },
      stats: { forwardIntervalSeconds: 3600 },
    },
  });
  const { node, key } = sampled;
  await new AdminAuth({
    db: node.serving.node.db,
    clock: node.clock,
    config: node.config.admin,
    secure: false,
    log: memoryLogger(),
  }).setPassword("admin", PASSWORD);
  assertError(await api(node, "/admin/api/samples"), 401, "admin_auth_required");
  const { cookie } = await logIn(node);

  const first = await upload(node, key, bytesOf(1000, 1), { "x-detection": "EICAR-Test-File" });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  node.clock.set(node.clock.now() + 60_000);
  const second = await upload(node, key, bytesOf(2000, 2), { "x-sample-name": "setup.exe" });
  assert.equal(second.status, 201, JSON.stringify(second.body));

  const res = await api(node, "/admin/api/samples", { cookie });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.count, 2);
  assert.equal(res.body.bytes, 3000);
  assert.deepEqual(
    res.body.samples.map((
      s: Record<string, unknown>,
    ) => [s.sha256, s.size, s.extension, s.detection, s.queued]),
    [
      [second.body.sha256, 2000, "exe", null, true],
      [first.body.sha256, 1000, null, "EICAR-Test-File", true],
    ],
  );
  const one = await api(node, "/admin/api/samples?limit=1", { cookie });
  assert.equal(one.body.samples.length, 1);
  assert.equal(one.body.count, 2);
  assertError(await api(node, "/admin/api/samples?limit=0", { cookie }), 400, "invalid_request");
  assertError(await api(node, "/admin/api/samples?sort=size", { cookie }), 400, "invalid_request");
});

Deno.test("pksn samples list shows the same samples from the CLI", async () => {
  await using sampled = await sampleNode();
  const { node, key } = sampled;
  const sent = await upload(node, key, bytesOf(1500, 3), { "x-detection": "Listed.By.Cli" });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  const text = await runCli(["samples", "list", "--data", node.dataDir]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^1 sample, 1500 bytes\n/);
  assert.match(text.stdout, new RegExp(`${sent.body.sha256} +1500 \\S+Z Listed\\.By\\.Cli`));
  const json = JSON.parse(
    (await runCli(["samples", "list", "--json", "--data", node.dataDir])).stdout,
  );
  assert.equal(json.samples[0].sha256, sent.body.sha256);
  const bad = await runCli(["samples", "list", "--limit", "0", "--data", node.dataDir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Invalid --limit "0"/);
});
