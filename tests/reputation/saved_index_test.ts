/**
 * The look-up index kept on disk (DATA/index.bin): a restart reads it instead of scanning every
 * key, and only when it is the index of the database as it is now.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveConfig } from "../../src/core/config.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { type Node, openNode } from "../../src/node/mod.ts";
import { fakeClock, runCli, tempDir } from "../_helpers.ts";

const MD5 = (i: number): string => i.toString(16).padStart(32, "0");

async function importRecords(data: string, from: number, count: number): Promise<void> {
  const lines = Array.from(
    { length: count },
    (_, i) =>
      JSON.stringify({
        type: "file",
        md5: MD5(from + i),
        verdict: "malicious",
        threat: "T",
        source: "test",
      }),
  );
  lines.push(JSON.stringify({ type: "ip", value: "192.0.2.0/24", verdict: "malicious" }));
  const file = join(data, `records-${from}.ndjson`);
  await Deno.mkdir(data, { recursive: true });
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  const run = await runCli(["import", file, "--data", data, "--last-wins"]);
  assert.equal(run.code, 0, run.stderr);
}

/** Opens the node as `serve` does (saving the index), waits for the save, and closes it. */
async function withNode<T>(data: string, use: (node: Node) => Promise<T> | T): Promise<T> {
  const log = memoryLogger();
  const node = await openNode(resolveConfig({ dataDir: data }), {
    clock: fakeClock(),
    log,
    saveIndex: true,
  });
  try {
    const out = await use(node);
    await node.indexSaved();
    assert.deepEqual(log.lines.filter((l) => /Cannot save/.test(l)), []);
    return out;
  } finally {
    node.close();
  }
}

Deno.test("a restart reads the saved index, which answers as the built one did", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  await importRecords(data, 0, 5_000);
  const first = await withNode(data, (node) => {
    assert.equal(node.index.current.fromFile, undefined, "the first start builds");
    return node.index.current;
  });
  assert.ok((await Deno.stat(join(data, "index.bin"))).size > 5_000 * 4);

  await withNode(data, (node) => {
    const loaded = node.index.current;
    assert.equal(loaded.fromFile, true, "the second start reads the file");
    assert.equal(loaded.prefixes.size, first.prefixes.size);
    assert.deepEqual(loaded.counts, first.counts);
    assert.deepEqual(loaded.ipv4Lengths, [24]);
    assert.equal(loaded.generation, first.generation);
    assert.equal(node.reputation.lookup("file", MD5(4_321)).verdict, "malicious");
    assert.equal(node.reputation.lookup("ip", "192.0.2.9").verdict, "malicious");
    assert.equal(node.reputation.lookup("file", MD5(9_999)).verdict, "unknown");
  });
});

Deno.test("a saved index is not used once the entries changed, nor when its file is damaged or another's", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  await importRecords(data, 0, 1_000);
  await withNode(data, () => {});

  // Another process writes: the saved index is stale, and the next start builds.
  await importRecords(data, 1_000, 10);
  await withNode(data, (node) => {
    assert.equal(node.index.current.fromFile, undefined);
    assert.equal(node.reputation.lookup("file", MD5(1_005)).verdict, "malicious");
  });
  await withNode(data, (node) => assert.equal(node.index.current.fromFile, true));

  // One byte changed: the file's hash no longer matches the database's record of it.
  const path = join(data, "index.bin");
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 1] ^= 1;
  await Deno.writeFile(path, bytes);
  await withNode(data, (node) => {
    assert.equal(node.index.current.fromFile, undefined);
    assert.equal(node.reputation.lookup("file", MD5(7)).verdict, "malicious");
  });

  // Another data folder's file, built at the same generation, is not this database's.
  const other = join(dir.path, "other");
  await importRecords(other, 50_000, 1_000);
  await importRecords(other, 60_000, 1_000);
  const theirs = await withNode(other, (node) => node.index.current.generation);
  await Deno.copyFile(join(other, "index.bin"), path);
  await withNode(data, (node) => {
    assert.equal(node.index.current.generation, theirs, "the same generation number");
    assert.equal(node.index.current.fromFile, undefined);
    assert.equal(node.reputation.lookup("file", MD5(7)).verdict, "malicious");
  });
});

Deno.test("a one-off command reads the saved index but does not write one", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  await importRecords(data, 0, 100);
  const look = await runCli(["lookup", "file", MD5(3), "--data", data]);
  assert.equal(look.code, 0, look.stderr);
  await assert.rejects(Deno.stat(join(data, "index.bin")), Deno.errors.NotFound);
});
