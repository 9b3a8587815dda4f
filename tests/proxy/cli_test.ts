/** `pksn proxy status` and `pksn proxy flush` against a running proxying node's data folder. */
import assert from "node:assert/strict";
import { fakeClock, runCli, tempDir } from "../_helpers.ts";
import { hash, listed, lookUpFile, startFakeParent, startProxyNode } from "./_parent.ts";

/** Waits until the running node has written its cache (it flushes every second). */
async function cachedOnDisk(dataDir: string, entries: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const out = await runCli(["proxy", "status", "--json", "--data", dataDir]);
    assert.equal(out.code, 0, out.stderr);
    if (JSON.parse(out.stdout).cache.entries === entries) return;
    if (Date.now() > deadline) assert.fail(`the cache never reached ${entries}: ${out.stdout}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test("pksn proxy status shows the cache on disk; flush by value, by type and all reaches the running node", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(1)}`, listed("Cli.One"));
  parent.records.set(`domain bad.example`, { verdict: "phishing", ttl: 600, source: "p" });
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(Date.now()),
    config: { store: { reloadCheckSeconds: 0.1 } },
  });
  try {
    await lookUpFile(node, hash(1));
    await lookUpFile(node, hash(2));
    await fetch(`${node.url}/v1/domains/bad.example`, {
      headers: { authorization: `Bearer ${node.key}` },
    }).then((r) => r.body?.cancel());
    await cachedOnDisk(dir.path, 3);

    const text = await runCli(["proxy", "status", "--data", dir.path]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /KSN proxy: off/, "this CLI run has no config turning it on");
    assert.match(text.stdout, /cache: 3 of at most 50000 answers/);
    assert.match(text.stdout, /file\s+2 answers/);

    // The value is normalised as a look-up normalises it.
    const one = await runCli([
      "proxy",
      "flush",
      "--type",
      "file",
      hash(1).toUpperCase(),
      "--data",
      dir.path,
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`Removed 1 cached answer \\(file ${hash(1)}\\)`));
    const deadline = Date.now() + 5000;
    while (node.serving.proxy!.report().cache.entries !== 2) {
      if (Date.now() > deadline) assert.fail("the running node kept the flushed answer");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await lookUpFile(node, hash(1))).via, "upstream", "asked again");
    assert.equal((await lookUpFile(node, hash(2))).via, "cache", "the others stay");

    const byType = await runCli(["proxy", "flush", "--type", "domain", "--data", dir.path]);
    assert.match(byType.stdout, /Removed 1 cached answer \(every domain answer\)/);
    await cachedOnDisk(dir.path, 2);
    const all = await runCli(["proxy", "flush", "--data", dir.path]);
    assert.match(all.stdout, /Removed 2 cached answers \(every answer\)/);
    await cachedOnDisk(dir.path, 0);
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("pksn proxy flush refuses an unknown type, a value without a type, and a malformed value", async () => {
  await using dir = await tempDir();
  const badType = await runCli(["proxy", "flush", "--type", "hash", "--data", dir.path]);
  assert.equal(badType.code, 2);
  assert.match(
    badType.stderr,
    /Unknown --type "hash": expected one of file, url, domain, ip, cert/,
  );
  const noType = await runCli(["proxy", "flush", "x.example", "--data", dir.path]);
  assert.equal(noType.code, 2);
  assert.match(noType.stderr, /Give --type with a VALUE/);
  const badValue = await runCli(["proxy", "flush", "--type", "file", "xyz", "--data", dir.path]);
  assert.equal(badValue.code, 1);
  assert.match(badValue.stderr, /hash|hex/i);
});
