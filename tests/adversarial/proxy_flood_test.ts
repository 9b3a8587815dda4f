/**
 * The KSN proxy under a flood of distinct misses, in a node with the serving heap limit: every
 * answer the parent gives is cached, so without its bounds the cache would grow until the node
 * died at its heap limit. The bounds hold, the node keeps serving, and a cache too large for the
 * heap is refused at start.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO_KEY } from "../../src/demo/mod.ts";
import { startServe } from "../cli/_cli.ts";
import { pksnCommand, runCli, tempDir } from "../_helpers.ts";
import { hash, startFakeParent } from "../proxy/_parent.ts";

const MISSES = 200_000;
const BATCH = 1000;
/** An idle demo node peaks near 75 MiB; the heap is capped at 96 MiB. */
const MAX_RSS_BYTES = 200 * 1024 * 1024;

async function peakRss(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

function gauge(metrics: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+)`, "m").exec(metrics);
  assert.ok(m, `/metrics has ${name}`);
  return Number(m[1]);
}

Deno.test({
  name: "200,000 distinct misses through the proxy of a node with the serving heap limit keep " +
    "its cache within its bounds and the node serving",
  ignore: Deno.build.os !== "linux",
  async fn(): Promise<void> {
    await using dir = await tempDir();
    const parent = startFakeParent();
    // Every object is listed there, with the longest fields a record commonly has.
    parent.everything = {
      verdict: "malicious",
      threat: "HEUR:Trojan-Downloader.Win32.Generic.x",
      categories: ["trojan", "downloader", "botnet-c2", "ransomware"],
      ttl: 86_400,
      source: "parent-feed",
    };
    try {
      const config = join(dir.path, "pksn.json");
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          upstream: { url: parent.url, key: "flood-node-key" },
          proxy: { enabled: true, timeoutMs: 10_000 },
        }),
      );
      const data = join(dir.path, "data");
      const set = await runCli([
        "participation",
        "set",
        "without-statistics",
        "--accept-statement",
        "--data",
        data,
      ]);
      assert.equal(set.code, 0, set.stderr);
      await using node = await startServe(
        ["--demo", "--data", data, "--config", config, "--listen", "127.0.0.1:0"],
        { serving: true },
      );
      const headers = { authorization: `Bearer ${DEMO_KEY}`, "content-type": "application/json" };
      for (let at = 0; at < MISSES; at += BATCH * 2) {
        await Promise.all([0, BATCH].map(async (offset) => {
          const items = Array.from(
            { length: BATCH },
            (_, i) => ({ type: "file", value: hash(at + offset + i) }),
          );
          const res = await fetch(`${node.url}/v1/lookup`, {
            method: "POST",
            headers,
            body: JSON.stringify({ items }),
          });
          const body = await res.json();
          assert.equal(res.status, 200, JSON.stringify(body).slice(0, 300));
          assert.ok(body.results.every((r: { via: string }) => r.via === "upstream"));
        }));
      }
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      const bytes = gauge(metrics, "pksn_proxy_cache_bytes");
      const entries = gauge(metrics, "pksn_proxy_cache_entries");
      assert.ok(bytes <= 16 * 1024 * 1024, `cache bytes ${bytes} within the default 16 MiB`);
      assert.ok(entries <= 50_000, `cache entries ${entries} within the default 50,000`);
      assert.ok(gauge(metrics, "pksn_proxy_cache_evictions") >= MISSES - 50_000);
      const peak = await peakRss(node.child.pid);
      assert.ok(peak < MAX_RSS_BYTES, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
      const newest = await fetch(`${node.url}/v1/files/${hash(MISSES - 1)}`, { headers });
      const answer = await newest.json();
      assert.equal(answer.via, "cache", JSON.stringify(answer));
    } finally {
      await parent.close();
    }
  },
});

Deno.test("a node whose proxy.cacheMiB is over a quarter of its heap refuses to start, naming both", async () => {
  await using dir = await tempDir();
  const config = join(dir.path, "pksn.json");
  await Deno.writeTextFile(
    config,
    JSON.stringify({
      upstream: { url: "http://127.0.0.1:9", key: "flood-node-key" },
      proxy: { enabled: true, cacheMiB: 64 },
    }),
  );
  const out = await pksnCommand(
    ["serve", "--data", join(dir.path, "data"), "--config", config, "--listen", "127.0.0.1:0"],
    { serving: true },
  ).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  assert.match(
    stderr,
    /"proxy\.cacheMiB": 64 MiB is more than a quarter of this process's JavaScript heap \(\d+ MiB\); lower it to at most 2\d/,
  );
});
