/** The quarantine over time: its quota, its retention, and samples on their way upstream. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { eventually } from "../licences/_licences.ts";
import { NODE_KEY, sha256Hex, startFakeParent } from "./_forward.ts";
import { bytesOf, filesUnder, sampleNode, upload } from "./_samples.ts";

const MiB = 1024 * 1024;
const DAY_MS = 86_400_000;

Deno.test("a full quarantine refuses new samples with 507 quarantine_full and keeps the ones it has", async () => {
  await using ctx = await sampleNode({
    config: { stats: { maxSampleBytes: MiB, quarantineMaxBytes: MiB } },
  });
  const first = bytesOf(700 * 1024, 1);
  assert.equal((await upload(ctx.node, ctx.key, first)).status, 201);
  const second = await upload(ctx.node, ctx.key, bytesOf(700 * 1024, 2));
  assert.equal(second.status, 507, JSON.stringify(second.body));
  assert.equal(second.body.error.code, "quarantine_full");
  assert.match(second.body.error.message, /stats.quarantineMaxBytes 1048576/);

  const files = await filesUnder(join(ctx.node.dataDir, "quarantine"));
  const kept = await sha256Hex(first);
  assert.deepEqual(files, [`${kept.slice(0, 2)}/${kept.slice(2, 4)}/${kept}`], "nothing evicted");
  const again = await upload(ctx.node, ctx.key, first);
  assert.deepEqual([again.status, again.body.duplicate], [200, true], "a known sample still is");
});

Deno.test("samples older than stats.sampleRetentionDays are removed with their files, which frees room", async () => {
  await using ctx = await sampleNode({
    config: { stats: { maxSampleBytes: MiB, quarantineMaxBytes: MiB, sampleRetentionDays: 30 } },
  });
  const { clock } = ctx.node;
  const start = clock.now();
  const old = (await upload(ctx.node, ctx.key, bytesOf(600 * 1024, 1))).body.sha256;
  clock.set(start + 20 * DAY_MS);
  assert.equal((await upload(ctx.node, ctx.key, bytesOf(600 * 1024, 2))).status, 507);
  const young = (await upload(ctx.node, ctx.key, bytesOf(1000, 3))).body.sha256;

  const samples = ctx.node.serving.forwarding.samples;
  assert.equal(await samples.prune(), 0, "nothing is 30 days old yet");
  clock.set(start + 30 * DAY_MS + 1000);
  assert.equal(await samples.prune(), 1);

  const files = await filesUnder(join(ctx.node.dataDir, "quarantine"));
  assert.deepEqual(files, [`${young.slice(0, 2)}/${young.slice(2, 4)}/${young}`]);
  assert.equal(await samples.read(old), null);
  assert.ok(ctx.node.logLines.some((l) => l.includes("Removed 1 samples older than 30 days")));
  assert.equal((await upload(ctx.node, ctx.key, bytesOf(600 * 1024, 2))).status, 201, "room again");
});

Deno.test("a sample posted to a node with an upstream reaches the parent once the node participates with statistics", async () => {
  await using parent = startFakeParent();
  await using ctx = await sampleNode({
    config: {
      upstream: { url: parent.url, key: NODE_KEY },
      stats: { forwardIntervalSeconds: 0.05 },
    },
  });
  const bytes = bytesOf(5000, 9);
  const res = await upload(ctx.node, ctx.key, bytes, { "x-sample-name": "dropper.js" });
  assert.equal(res.status, 201);
  const spool = ctx.node.serving.forwarding.spool!;
  assert.equal(spool.totals().sample.entries, 1, "queued, but the node does not participate yet");
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(parent.arrivals, []);

  ctx.node.serving.node.participation.set("with-statistics", {
    acceptStatement: true,
    actor: "test",
  });
  assert.ok(await eventually(() => Promise.resolve(parent.samples.size === 1)));
  const arrival = parent.samples.get(res.body.sha256)!;
  assert.deepEqual(arrival.body, bytes);
  assert.equal(arrival.headers.get("x-sample-name"), "sample.js");
  assert.equal(arrival.headers.get("authorization"), `Bearer ${NODE_KEY}`);
  assert.ok(await eventually(() => Promise.resolve(spool.totals().sample.entries === 0)));

  const metrics = await fetch(`${ctx.node.url}/metrics`).then((r) => r.text());
  assert.match(metrics, /^pksn_upstream_sent_total\{kind="sample"\} 1$/m);
  assert.match(metrics, /^pksn_upstream_spool_entries\{kind="sample"\} 0$/m);
});

Deno.test("a retention prune also takes the sample's entry out of the upstream spool", async () => {
  await using parent = startFakeParent();
  await using ctx = await sampleNode({
    config: { upstream: { url: parent.url, key: NODE_KEY }, stats: { sampleRetentionDays: 1 } },
  });
  assert.equal((await upload(ctx.node, ctx.key, bytesOf(100))).status, 201);
  const spool = ctx.node.serving.forwarding.spool!;
  assert.equal(spool.totals().sample.entries, 1);
  ctx.node.clock.set(ctx.node.clock.now() + 2 * DAY_MS);
  assert.equal(await ctx.node.serving.forwarding.samples.prune(), 1);
  assert.equal(spool.totals().sample.entries, 0);
});
