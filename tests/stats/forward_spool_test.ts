/** The upstream spool: bounded, durable, observable. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { StatisticsReceipt, Upstream } from "../../src/upstream/mod.ts";
import { queueAcceptedStatistics } from "../../src/upstream/forwarder.ts";
import { openRig, startFakeParent, statisticsBatch, streamOf } from "./_forward.ts";

Deno.test("a full spool turns new batches away with a counter and a warning, and still delivers the earlier ones", async () => {
  await using parent = startFakeParent();
  const batch = statisticsBatch("full", 4);
  await using rig = await openRig({ upstream: parent.url, spoolMaxBytes: batch.byteLength * 2 });
  assert.equal(rig.spool.enqueue("statistics", "s1", batch), "queued");
  assert.equal(rig.spool.enqueue("statistics", "s2", batch), "queued");
  assert.equal(rig.spool.enqueue("statistics", "s3", batch), "full");
  assert.equal(rig.spool.enqueue("statistics", "s4", batch), "full");

  const metrics = rig.registry.render();
  assert.match(metrics, /^pksn_upstream_spool_dropped_total\{kind="statistics"\} 2$/m);
  assert.match(metrics, /^pksn_upstream_spool_entries\{kind="statistics"\} 2$/m);
  assert.match(
    metrics,
    new RegExp(`^pksn_upstream_spool_bytes\\{kind="statistics"\\} ${batch.byteLength * 2}$`, "m"),
  );
  const warnings = rig.log.lines.filter((l) => l.includes("WARN") && l.includes("spool is full"));
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /statistics batch not queued; its data stays in the local files/);

  await rig.forwarder.runOnce();
  assert.deepEqual([...parent.stores.keys()].sort(), ["s1", "s2"]);
  assert.equal(rig.spool.enqueue("statistics", "s5", batch), "queued", "delivery makes room");
});

Deno.test("a scrape reads the spool once for both gauges, and the next scrape reads it afresh", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  const batch = statisticsBatch("g");
  rig.spool.enqueue("statistics", "g1", batch);
  const totals = rig.spool.totals.bind(rig.spool);
  let readings = 0;
  rig.spool.totals = () => {
    readings++;
    return totals();
  };

  const first = rig.registry.render();
  assert.equal(readings, 1);
  assert.match(first, /^pksn_upstream_spool_entries\{kind="statistics"\} 1$/m);
  assert.match(
    first,
    new RegExp(`^pksn_upstream_spool_bytes\\{kind="statistics"\\} ${batch.byteLength}$`, "m"),
  );
  assert.match(first, /^pksn_upstream_spool_entries\{kind="sample"\} 0$/m);
  assert.match(first, /^pksn_upstream_spool_bytes\{kind="sample"\} 0$/m);
  assert.match(first, /# TYPE pksn_upstream_spool_entries gauge\n/);
  assert.match(first, /# TYPE pksn_upstream_spool_bytes gauge\n/);

  rig.spool.enqueue("statistics", "g2", batch);
  const second = rig.registry.render();
  assert.equal(readings, 2);
  assert.match(second, /^pksn_upstream_spool_entries\{kind="statistics"\} 2$/m);
  assert.match(
    second,
    new RegExp(`^pksn_upstream_spool_bytes\\{kind="statistics"\\} ${batch.byteLength * 2}$`, "m"),
  );
});

Deno.test("a batch id already queued is kept once", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  assert.equal(rig.spool.enqueue("statistics", "same", statisticsBatch("a")), "queued");
  assert.equal(rig.spool.enqueue("statistics", "same", statisticsBatch("b")), "duplicate");
  assert.equal(rig.spool.totals().statistics.entries, 1);
  await rig.forwarder.runOnce();
  assert.deepEqual(parent.batches.get("same"), statisticsBatch("a"));
});

Deno.test("the ingestion hook queues each accepted batch under a fresh key, as a client would send it", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  const hook = queueAcceptedStatistics(rig.spool);
  const stored = (threat: string): Record<string, unknown> => ({
    detectedAt: "2026-11-28T11:59:00.000Z",
    threat,
    statisticsVersion: 1,
    receivedAt: "2026-11-28T12:00:00.000Z",
  });
  const ndjson = new Uint8Array(); // the day file's bytes; the parent gets the records instead
  // Two clients may pick the same Idempotency-Key; the parent must still get both batches.
  hook({ id: "client-key-1", records: [stored("first.a"), stored("first.b")], ndjson });
  hook({ id: "client-key-1", records: [stored("second")], ndjson });

  await rig.forwarder.runOnce();
  const keys = [...parent.batches.keys()];
  assert.equal(keys.length, 2);
  assert.ok(keys.every((k) => /^[0-9a-f-]{36}$/.test(k)), keys.join());
  const lines = [...parent.batches.values()].flatMap((b) =>
    new TextDecoder().decode(b).trim().split("\n").map((l) => JSON.parse(l))
  );
  assert.deepEqual(lines.map((r) => r.threat).sort(), ["first.a", "first.b", "second"]);
  assert.ok(lines.every((r) => !("receivedAt" in r)), "the node's own stamp stays home");
  assert.ok(lines.every((r) => r.detectedAt === "2026-11-28T11:59:00.000Z"));
});

Deno.test("metrics count delivered and failed sends by kind", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  rig.spool.enqueue("statistics", "ok", statisticsBatch("a"));
  rig.spool.enqueue("statistics", "refused", statisticsBatch("b"));
  parent.plan.push({ delayMs: 0 }, { status: 400 });
  await rig.forwarder.runOnce();
  const metrics = rig.registry.render();
  assert.match(metrics, /^pksn_upstream_sent_total\{kind="statistics"\} 1$/m);
  assert.match(metrics, /^pksn_upstream_failed_total\{kind="statistics",reason="permanent"\} 1$/m);
  assert.match(metrics, /^pksn_upstream_spool_entries\{kind="statistics"\} 1$/m);
});

Deno.test("a queued sample whose file is gone is removed from the spool with a warning", async () => {
  await using parent = startFakeParent();
  await using rig = await openRig({ upstream: parent.url });
  const { sha256 } = await rig.samples.receive(streamOf(new TextEncoder().encode("gone soon")), {
    licenceId: 1,
    sha256: null,
    meta: { extension: null, detection: null },
  });
  rig.db.prepare("DELETE FROM sample").run();

  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 1 });
  assert.deepEqual(parent.arrivals, []);
  assert.equal(rig.spool.totals().sample.entries, 0);
  assert.ok(rig.log.lines.some((l) => l.includes("WARN") && l.includes(sha256)));
});

for (
  const [damage, meta, why] of [
    ["is not JSON", "{not json", /not JSON \(/],
    ["is not an object", "null", /not a JSON object/],
    [
      "holds a detection no header can carry",
      '{"detection":"line\\nbreak"}',
      /invalid "detection"/,
    ],
  ] as const
) {
  Deno.test(`a queued sample whose stored metadata ${damage} is reported once, counted and dropped from the spool; its file stays`, async () => {
    await using parent = startFakeParent();
    await using rig = await openRig({ upstream: parent.url });
    const receive = (text: string) =>
      rig.samples.receive(streamOf(new TextEncoder().encode(text)), {
        licenceId: 1,
        sha256: null,
        meta: { extension: "exe", detection: null },
      });
    const damaged = (await receive("damaged row")).sha256;
    const healthy = (await receive("healthy row")).sha256;
    rig.db.prepare("UPDATE sample SET meta = ? WHERE hex(sha256) = upper(?)").run(meta, damaged);

    assert.deepEqual(await rig.forwarder.runOnce(), { sent: 1, failed: 1 }, "no pause either");
    assert.deepEqual([...parent.samples.keys()], [healthy]);
    assert.equal(rig.spool.totals().sample.entries, 0, "not retried");
    assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 0 });

    const reports = rig.log.lines.filter((l) => l.includes(damaged));
    assert.equal(reports.length, 1, reports.join("\n"));
    assert.match(reports[0], /ERROR/);
    assert.match(reports[0], /removed from the spool \(the file stays in the quarantine\)/);
    assert.match(reports[0], why);
    assert.match(
      rig.registry.render(),
      /^pksn_upstream_failed_total\{kind="sample",reason="corrupt"\} 1$/m,
    );
    const file = join(rig.dir, "quarantine", damaged.slice(0, 2), damaged.slice(2, 4), damaged);
    assert.ok((await Deno.stat(file)).isFile, "the sample itself is kept");
  });
}

Deno.test("records the parent refuses inside a delivered batch are counted and logged, not retried", async () => {
  const calls: string[] = [];
  const upstream: Upstream = {
    sendStatistics(batchId): Promise<StatisticsReceipt> {
      calls.push(batchId);
      return Promise.resolve({ rejected: 2, firstError: 'Field "x": unknown field, not stored' });
    },
    sendSample: () => Promise.resolve(),
  };
  await using rig = await openRig({ upstream });
  rig.spool.enqueue("statistics", "partly", statisticsBatch("p", 3));
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 1, failed: 0 });
  assert.deepEqual(await rig.forwarder.runOnce(), { sent: 0, failed: 0 });
  assert.deepEqual(calls, ["partly"]);
  assert.match(
    rig.registry.render(),
    /^pksn_upstream_records_rejected_total\{kind="statistics"\} 2$/m,
  );
  assert.ok(
    rig.log.lines.some((l) =>
      l.includes("WARN") &&
      l.includes('Upstream refused 2 records of a statistics batch: Field "x"')
    ),
  );
});
