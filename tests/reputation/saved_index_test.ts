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
  // As a data folder from before imports saved the index: the first start builds and saves.
  await Deno.remove(join(data, "index.bin"));
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

  // The rows changed after the file was written (here: the file put back from before an
  // import): the saved index is stale, and the next start builds.
  const path = join(data, "index.bin");
  const before = await Deno.readFile(path);
  await importRecords(data, 1_000, 10);
  await Deno.writeFile(path, before);
  await withNode(data, (node) => {
    assert.equal(node.index.current.fromFile, undefined);
    assert.equal(node.reputation.lookup("file", MD5(1_005)).verdict, "malicious");
  });
  await withNode(data, (node) => assert.equal(node.index.current.fromFile, true));

  // One byte changed: the file's hash no longer matches the database's record of it.
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

Deno.test("pksn import saves the index, so the first start reads it; pksn lookup only reads it", async () => {
  await using dir = await tempDir();
  const data = join(dir.path, "data");
  await importRecords(data, 0, 100);
  const path = join(data, "index.bin");
  const saved = await Deno.readFile(path);
  const look = await runCli(["lookup", "file", MD5(3), "--data", data]);
  assert.equal(look.code, 0, look.stderr);
  assert.deepEqual(await Deno.readFile(path), saved, "a look-up leaves the file as it was");
  await withNode(data, (node) => {
    assert.equal(node.index.current.fromFile, true, "the first start reads the import's file");
    assert.equal(node.reputation.lookup("file", MD5(42)).verdict, "malicious");
    assert.equal(node.reputation.lookup("ip", "192.0.2.1").verdict, "malicious");
  });
  // A later import replaces it with the index of the rows it wrote.
  await importRecords(data, 100, 10);
  await withNode(data, (node) => {
    assert.equal(node.index.current.fromFile, true);
    assert.equal(node.reputation.lookup("file", MD5(105)).verdict, "malicious");
  });
});
