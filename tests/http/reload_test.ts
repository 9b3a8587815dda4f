/** A running node picks up records that another connection (another process) committed. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { importRecords } from "../../src/feeds/mod.ts";
import { openDatabase } from "../../src/store/database.ts";
import { ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { readLines } from "../../src/core/lines.ts";
import type { TestNode } from "../_helpers.ts";
import { getJson, startNode, unknownResult } from "./_http.ts";

const HASH = "feedfacefeedfacefeedfacefeedface";
const RECORD = { type: "file", md5: HASH, verdict: "malicious", threat: "Test.Reloaded" };

/** Imports records through a second connection to the node's pksn.db, as `pksn import` does. */
async function importElsewhere(node: TestNode, records: unknown[]): Promise<void> {
  const db = openDatabase(join(node.dataDir, "pksn.db"));
  try {
    const bytes = new TextEncoder().encode(records.map((r) => JSON.stringify(r)).join("\n"));
    const report = await importRecords(db, readLines(ReadableStream.from([bytes])), {
      format: "ndjson",
      origin: ORIGIN_MIRROR,
      source: "elsewhere",
    });
    assert.ok(report.committed, JSON.stringify(report.errors));
  } finally {
    db.close();
  }
}

Deno.test("a running node answers a record another connection wrote once refreshIfChanged reloads the index", async () => {
  await using node = await startNode({ demo: true });
  const before = await getJson(node, `/v1/files/${HASH}`);
  assert.equal(before.status, 200);
  assert.deepEqual(before.body, unknownResult("file", HASH, node.config.lookup.unknownTtl));

  await importElsewhere(node, [RECORD]);
  assert.ok((await node.serving.node.refreshIfChanged()).includes("entries"));

  const after = await getJson(node, `/v1/files/${HASH}`);
  assert.equal(after.status, 200);
  assert.deepEqual(after.body, {
    type: "file",
    value: HASH,
    verdict: "malicious",
    threat: "Test.Reloaded",
    ttl: node.config.lookup.defaultTtl,
    source: "elsewhere",
    via: "mirror",
  });
  assert.deepEqual(await node.serving.node.refreshIfChanged(), [], "nothing changed since");
});

Deno.test("a running node reloads another connection's writes on its own within store.reloadCheckSeconds", async () => {
  await using node = await startNode({ config: { store: { reloadCheckSeconds: 0.1 } } });
  await importElsewhere(node, [RECORD]);
  const deadline = Date.now() + 5000;
  let res = await getJson(node, `/v1/files/${HASH}`);
  while (res.body.verdict === "unknown" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    res = await getJson(node, `/v1/files/${HASH}`);
  }
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "malicious");
  assert.ok(
    node.logLines.some((line) => line.includes("Reloaded reputation index")),
    node.logLines.join("\n"),
  );
});

Deno.test({
  name: "two overlapping index reloads both succeed and the node answers the new record",
  async fn(): Promise<void> {
    await using node = await startNode();
    await importElsewhere(node, [RECORD]);
    const results = await Promise.allSettled([
      node.serving.node.refreshIndex(),
      node.serving.node.refreshIndex(),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["fulfilled", "fulfilled"]);
    const res = await getJson(node, `/v1/files/${HASH}`);
    assert.equal(res.body.verdict, "malicious");
  },
});

Deno.test("a refresh asked for while the reload timer's build already reads those writes shares that build", async () => {
  await using node = await startNode({ demo: true });
  const serving = node.serving.node;
  await importElsewhere(node, [RECORD]);
  // The reload check sees the write first (as it sees a sync worker's commit) and starts a build;
  // the writer's own refresh then asks for the same writes.
  const reload = serving.refreshIfChanged();
  const refresh = serving.refreshIndex();
  await reload;
  const fromReload = serving.index.current;
  assert.equal(await refresh, fromReload, "one build, shared, not a second one queued after it");
  assert.equal(serving.reputation.lookup("file", HASH).verdict, "malicious");

  // A write after the running build started still gets a build of its own.
  const build = serving.refreshIndex();
  await importElsewhere(node, [{ ...RECORD, md5: "ab".repeat(16) }]);
  const later = await serving.refreshIndex();
  assert.notEqual(later, await build);
  assert.equal(serving.reputation.lookup("file", "ab".repeat(16)).verdict, "malicious");
});
