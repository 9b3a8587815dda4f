/**
 * The KSN proxy end to end: a node over real HTTP on loopback in front of a counting parent
 * (a fake one whose behaviour each test sets, and once a real pksn node).
 */
import assert from "node:assert/strict";
import { fakeClock, startTestNode, tempDir, type TestNode } from "../_helpers.ts";
import { importInto } from "../http/_http.ts";
import { ORIGIN_LOCAL, ORIGIN_MIRROR } from "../../src/store/mod.ts";
import { DEMO_KEY } from "../../src/demo/mod.ts";
import {
  hash,
  listed,
  lookUpBatch,
  lookUpFile,
  type ProxyNode,
  startFakeParent,
  startProxyNode,
} from "./_parent.ts";

const SECOND = 1000;

/** Waits until `check` holds (polling), or fails after `ms`. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("a miss is asked of the parent (via upstream), then answered from the cache with no second request", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(1)}`, listed("Parent.Trojan"));
  const clock = fakeClock();
  const node = await startProxyNode({ dataDir: dir.path, parentUrl: parent.url, clock });
  try {
    const first = await lookUpFile(node, hash(1).toUpperCase());
    assert.deepEqual(first, {
      type: "file",
      value: hash(1),
      verdict: "malicious",
      threat: "Parent.Trojan",
      ttl: 3600,
      source: "parent-feed",
      via: "upstream",
    });
    assert.equal(parent.requests.length, 1);
    assert.deepEqual(parent.requests[0].items, [{ type: "file", value: hash(1) }]);
    assert.equal(parent.requests[0].authorization, "Bearer node-key-at-parent");

    clock.set(clock.now() + 600 * SECOND);
    const second = await lookUpFile(node, hash(1));
    assert.equal(second.via, "cache");
    assert.equal(second.verdict, "malicious");
    assert.equal(second.source, "parent-feed", "the record's source is kept as the parent gave it");
    assert.equal(second.ttl, 3000, "a cached answer's TTL is what is left of it");
    assert.equal(parent.requests.length, 1, "no second request");
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("a cached answer expires with its TTL, capped by proxy.maxTtlSeconds, and is asked again", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(1)}`, listed("Short.Lived", 60));
  parent.records.set(`file ${hash(2)}`, listed("Long.Lived", 10_000_000));
  const clock = fakeClock();
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock,
    config: { proxy: { maxTtlSeconds: 120 } },
  });
  try {
    await lookUpBatch(node, [{ type: "file", value: hash(1) }, { type: "file", value: hash(2) }]);
    assert.equal(parent.requests.length, 1);
    clock.set(clock.now() + 61 * SECOND);
    assert.equal((await lookUpFile(node, hash(1))).via, "upstream", "60 s TTL passed");
    assert.equal((await lookUpFile(node, hash(2))).via, "cache", "capped TTL not yet passed");
    assert.equal(parent.requests.length, 2);
    clock.set(clock.now() + 60 * SECOND);
    assert.equal((await lookUpFile(node, hash(2))).via, "upstream", "capped at 120 s");
    assert.equal(parent.requests.length, 3);
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("an unknown answer from the parent is cached for proxy.unknownTtlSeconds (negative caching)", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  const clock = fakeClock();
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock,
    config: { proxy: { unknownTtlSeconds: 30 } },
  });
  try {
    const first = await lookUpFile(node, hash(7));
    assert.equal(first.verdict, "unknown");
    assert.equal(first.via, "upstream");
    const again = await lookUpFile(node, hash(7));
    assert.equal(again.via, "cache");
    assert.equal(again.verdict, "unknown");
    assert.equal(parent.requests.length, 1);
    clock.set(clock.now() + 31 * SECOND);
    assert.equal((await lookUpFile(node, hash(7))).via, "upstream");
    assert.equal(parent.requests.length, 2);
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("1,000 concurrent look-ups of the same unknown object cause one upstream request", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(42)}`, listed("Storm.Object"));
  parent.delayMs = 200;
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
    config: {
      proxy: { timeoutMs: 10_000 },
      server: { maxConnectionsPerClient: 2000 },
    },
  });
  try {
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () => lookUpFile(node, hash(42))),
    );
    assert.equal(parent.requests.length, 1);
    assert.ok(answers.every((a) => a.verdict === "malicious" && a.threat === "Storm.Object"));
    assert.ok(answers.every((a) => a.via === "upstream" || a.via === "cache"));
    const report = node.serving.proxy!.report();
    assert.equal(report.upstream.requests, 1);
    assert.ok(report.coalesced > 0, "the waiting look-ups shared the first one's question");
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("the misses of a batch go to the parent in one request, and listed items never do", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  for (let i = 0; i < 50; i++) parent.records.set(`file ${hash(i)}`, listed(`Batch.${i}`));
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
  });
  try {
    const items = Array.from({ length: 50 }, (_, i) => ({ type: "file", value: hash(i) }));
    const results = await lookUpBatch(node, [...items, { type: "file", value: "not-a-hash" }]);
    assert.equal(parent.requests.length, 1);
    assert.equal(parent.requests[0].items.length, 50);
    assert.ok(
      results.slice(0, 50).every((r, i) => r.via === "upstream" && r.threat === `Batch.${i}`),
    );
    assert.equal((results[50] as { error: { code: string } }).error.code, "invalid_hash");
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("a local override and a mirror record win over the parent and its cached answer", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`domain cached.example`, { verdict: "malicious", ttl: 3600, source: "p" });
  parent.records.set(`domain mirror.example`, { verdict: "malicious", ttl: 3600, source: "p" });
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
  });
  try {
    const ask = async (name: string): Promise<Record<string, unknown>> => {
      const response = await fetch(`${node.url}/v1/domains/${name}`, {
        headers: { authorization: `Bearer ${node.key}` },
      });
      return await response.json();
    };
    assert.equal((await ask("cached.example")).via, "upstream");
    const target = { serving: node.serving } as TestNode;
    await importInto(target, [
      { type: "domain", value: "cached.example", verdict: "clean", source: "operator" },
    ], ORIGIN_LOCAL);
    await importInto(target, [
      { type: "domain", value: "mirror.example", verdict: "phishing", source: "feed" },
    ], ORIGIN_MIRROR);
    const overridden = await ask("cached.example");
    assert.equal(overridden.via, "override");
    assert.equal(overridden.verdict, "clean");
    const mirrored = await ask("mirror.example");
    assert.equal(mirrored.via, "mirror");
    assert.equal(mirrored.verdict, "phishing");
    assert.equal(parent.requests.length, 1, "neither is asked of the parent");
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("while the parent is down, an expired answer is served stale within proxy.staleSeconds, then not at all", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(3)}`, listed("Stale.Ok", 60));
  const clock = fakeClock();
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock,
    config: { proxy: { staleSeconds: 600 } },
  });
  try {
    assert.equal((await lookUpFile(node, hash(3))).via, "upstream");
    await parent.close();
    clock.set(clock.now() + 120 * SECOND);
    const stale = await lookUpFile(node, hash(3));
    assert.equal(stale.via, "cache");
    assert.equal(stale.stale, true);
    assert.equal(stale.verdict, "malicious");
    assert.ok((stale.ttl as number) <= 60, "a stale answer is cached briefly by clients");
    clock.set(clock.now() + 600 * SECOND);
    const gone = await lookUpFile(node, hash(3));
    assert.equal(gone.via, "none");
    assert.equal(gone.verdict, "unknown");
  } finally {
    await node.stop();
  }
});

Deno.test("the circuit breaker stops asking a failing parent, then lets one trial through and closes", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.failWith = 503;
  parent.records.set(`file ${hash(9)}`, listed("Back.Again"));
  const clock = fakeClock();
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock,
    config: { proxy: { breakerFailures: 2, breakerOpenSeconds: 30 } },
  });
  try {
    for (let i = 0; i < 2; i++) assert.equal((await lookUpFile(node, hash(9))).via, "none");
    assert.equal(parent.requests.length, 2);
    assert.equal(node.serving.proxy!.report().breaker, "open");
    const started = performance.now();
    const answer = await lookUpFile(node, hash(9));
    assert.equal(answer.via, "none");
    assert.equal(answer.proxyTimeout, undefined, "no waiting, so no timeout");
    assert.ok(performance.now() - started < 400, "an open breaker costs the client no waiting");
    assert.equal(parent.requests.length, 2, "an open breaker sends nothing");

    parent.failWith = null;
    clock.set(clock.now() + 37 * SECOND); // past 30 s plus the most jitter (20%)
    assert.equal((await lookUpFile(node, hash(9))).via, "upstream", "the trial request");
    assert.equal(node.serving.proxy!.report().breaker, "closed");
    const metrics = await fetch(`${node.url}/metrics`).then((r) => r.text());
    assert.match(metrics, /pksn_proxy_breaker_state 0/);
    assert.match(metrics, /pksn_proxy_upstream_requests_total\{result="error"\} 2/);
    assert.match(metrics, /pksn_proxy_lookups_total\{outcome="breaker_open"\} 1/);
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("a client waits at most proxy.timeoutMs, and the parent's late answer still fills the cache", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(5)}`, listed("Slow.Parent"));
  parent.delayMs = 400;
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
    config: { proxy: { timeoutMs: 50 } },
  });
  try {
    const started = performance.now();
    const first = await lookUpFile(node, hash(5));
    assert.ok(performance.now() - started < 350, "answered before the parent");
    assert.deepEqual(
      [first.verdict, first.via, first.proxyTimeout],
      ["unknown", "none", true],
    );
    await until(() => node.serving.proxy!.report().cache.entries === 1, "the late answer");
    const second = await lookUpFile(node, hash(5));
    assert.equal(second.via, "cache");
    assert.equal(second.threat, "Slow.Parent");
    assert.equal(parent.requests.length, 1);
  } finally {
    await node.stop();
    await parent.close();
  }
});

for (const mode of ["save-statistics-to-file", "do-not-participate"] as const) {
  Deno.test(`in the node mode ${mode} no look-up leaves the node`, async () => {
    await using dir = await tempDir();
    const parent = startFakeParent();
    parent.records.set(`file ${hash(1)}`, listed("Never.Asked"));
    const node = await startProxyNode({
      dataDir: dir.path,
      parentUrl: parent.url,
      clock: fakeClock(),
      mode,
    });
    try {
      assert.equal((await lookUpFile(node, hash(1))).via, "none");
      await lookUpBatch(node, [{ type: "file", value: hash(2) }, {
        type: "url",
        value: "http://x.example/",
      }]);
      await new Promise((r) => setTimeout(r, 50)); // past the gathering window
      assert.equal(parent.requests.length, 0);
      assert.equal(node.serving.proxy!.report().asking, false);
    } finally {
      await node.stop();
      await parent.close();
    }
  });
}

Deno.test("with proxy.enabled off no look-up leaves the node and /v1/node says the proxy is off", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(1)}`, listed("Never.Asked"));
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
    config: { proxy: { enabled: false } },
  });
  try {
    assert.equal((await lookUpFile(node, hash(1))).via, "none");
    assert.equal(parent.requests.length, 0);
    const report = await fetch(`${node.url}/v1/node`, {
      headers: { authorization: `Bearer ${node.key}` },
    }).then((r) => r.json());
    assert.deepEqual(report.proxy, { enabled: false });
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("a look-up without a valid licence here never reaches the parent", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
  });
  try {
    const attempts: Record<string, string>[] = [{}, {
      authorization: "Bearer PKSN-AAAA-BBBB-CCCC-DDDD",
    }];
    for (const headers of attempts) {
      const response = await fetch(`${node.url}/v1/files/${hash(1)}`, { headers });
      assert.equal(response.status, 401);
      await response.body?.cancel();
    }
    const batch = await fetch(`${node.url}/v1/lookup`, {
      method: "POST",
      body: JSON.stringify({ items: [{ type: "file", value: hash(1) }] }),
    });
    assert.equal(batch.status, 401);
    await batch.body?.cancel();
    assert.equal(parent.requests.length, 0);
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("the cache survives a restart of the node", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  parent.records.set(`file ${hash(11)}`, listed("Kept.Across.Restart"));
  const clock = fakeClock();
  let node: ProxyNode = await startProxyNode({ dataDir: dir.path, parentUrl: parent.url, clock });
  try {
    assert.equal((await lookUpFile(node, hash(11))).via, "upstream");
    assert.equal((await lookUpFile(node, hash(12))).via, "upstream");
    await node.stop();
    node = await startProxyNode({ dataDir: dir.path, parentUrl: parent.url, clock });
    assert.equal(node.serving.proxy!.report().cache.entries, 2);
    const kept = await lookUpFile(node, hash(11));
    assert.equal(kept.via, "cache");
    assert.equal(kept.threat, "Kept.Across.Restart");
    assert.equal((await lookUpFile(node, hash(12))).via, "cache");
    assert.equal(parent.requests.length, 2);
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("the cache's entry bound holds under 200,000 distinct keys, on disk as in memory", async () => {
  await using dir = await tempDir();
  const parent = startFakeParent();
  let node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
    config: { proxy: { cacheEntries: 20_000, cacheMiB: 64, timeoutMs: 10_000 } },
  });
  try {
    for (let batch = 0; batch < 200; batch += 4) {
      await Promise.all([0, 1, 2, 3].map((k) =>
        lookUpBatch(
          node,
          Array.from({ length: 1000 }, (_, i) => ({
            type: "file",
            value: hash((batch + k) * 1000 + i),
          })),
        )
      ));
    }
    const report = node.serving.proxy!.report();
    assert.equal(report.lookups.upstream, 200_000);
    assert.equal(report.cache.entries, 20_000);
    assert.equal(report.cache.evictions, 180_000);
    await node.stop();
    node = await startProxyNode({
      dataDir: dir.path,
      parentUrl: parent.url,
      clock: fakeClock(),
      config: { proxy: { cacheEntries: 20_000 } },
    });
    assert.equal(node.serving.proxy!.report().cache.entries, 20_000, "as many on disk");
    assert.equal((await lookUpFile(node, hash(199_999))).via, "cache", "the newest are kept");
    assert.equal((await lookUpFile(node, hash(0))).via, "upstream", "the oldest left");
  } finally {
    await node.stop();
    await parent.close();
  }
});

Deno.test("a real pksn node is a parent: the demo record comes through with the parent's source", async () => {
  await using parent = await startTestNode({ demo: true });
  await using dir = await tempDir();
  const node = await startProxyNode({
    dataDir: dir.path,
    parentUrl: parent.url,
    clock: fakeClock(),
    config: { upstream: { key: DEMO_KEY } },
  });
  try {
    const answer = await lookUpFile(node, "44d88612fea8a8f36de82e1278abb02f");
    assert.equal(answer.via, "upstream");
    assert.equal(answer.verdict, "malicious");
    assert.equal(answer.source, "demo");
    const report = await fetch(`${node.url}/v1/node`, {
      headers: { authorization: `Bearer ${node.key}` },
    }).then((r) => r.json());
    assert.equal(report.proxy.enabled, true);
    assert.equal(report.proxy.parent, parent.url);
    assert.equal(report.proxy.cache.entries, 1);
    assert.equal(report.proxy.lookups.upstream, 1);
  } finally {
    await node.stop();
  }
});
