/** GET /v1/urls?url=… over real HTTP: URL listings, then the host's domain and network. */
import assert from "node:assert/strict";
import { assertJsonType, getJson, getUrl, startNode, unknownResult } from "./_http.ts";

Deno.test("GET /v1/urls answers a URL under a listed host suffix with the listing as match", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "http://a.b.evil.example/x/y?q=1");
  assert.equal(res.status, 200);
  assertJsonType(res.headers);
  assert.deepEqual(res.body, {
    type: "url",
    value: "http://a.b.evil.example/x/y?q=1",
    verdict: "malicious",
    threat: "Demo.Malware.Host",
    categories: ["demo", "malware-host"],
    ttl: node.config.lookup.defaultTtl,
    source: "demo",
    match: { type: "url", value: "evil.example/" },
    via: "mirror",
  });
});

Deno.test("GET /v1/urls answers a URL below a listed path prefix", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "https://phish.example/login/step2?user=1");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "https://phish.example/login/step2?user=1");
  assert.equal(res.body.verdict, "phishing");
  assert.equal(res.body.threat, "Demo.Phishing.Bank");
  assert.deepEqual(res.body.match, { type: "url", value: "phish.example/login/" });
});

Deno.test("GET /v1/urls does not apply a path-prefix listing to the paths above it", async () => {
  await using node = await startNode({ demo: true });
  for (const url of ["http://phish.example/", "http://phish.example/loginx"]) {
    const res = await getUrl(node, url);
    assert.equal(res.status, 200, url);
    assert.deepEqual(res.body, unknownResult("url", url, node.config.lookup.unknownTtl));
  }
});

Deno.test("GET /v1/urls answers a listed exact path whatever its query", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "http://downloads.example/tools/toolbar.exe?ref=ad");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "adware");
  assert.deepEqual(res.body.match, {
    type: "url",
    value: "downloads.example/tools/toolbar.exe",
  });
});

Deno.test("GET /v1/urls answers the canonical form of the URL it was given", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "HTTP://User@WWW.Evil.Example:8080/a/../b/./c#frag");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "http://www.evil.example/b/c");
  assert.deepEqual(res.body.match, { type: "url", value: "evil.example/" });
});

Deno.test("GET /v1/urls reads a URL without a scheme as http", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "phish.example/login/");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "http://phish.example/login/");
  assert.equal(res.body.verdict, "phishing");
});

Deno.test("GET /v1/urls falls back to a listed parent domain of the host", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "http://cdn.malware-c2.example/payload.bin");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "url",
    value: "http://cdn.malware-c2.example/payload.bin",
    verdict: "malicious",
    threat: "Demo.Botnet.C2",
    categories: ["demo", "c2"],
    ttl: node.config.lookup.defaultTtl,
    source: "demo",
    match: { type: "domain", value: "malware-c2.example" },
    via: "mirror",
  });
});

Deno.test("GET /v1/urls falls back to a listed domain also on a node without local overrides", async () => {
  await using node = await startNode({
    mirror: [{ type: "domain", value: "bad.test", verdict: "malicious" }],
  });
  const res = await getUrl(node, "https://www.bad.test/index.html");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "malicious");
  assert.deepEqual(res.body.match, { type: "domain", value: "bad.test" });
});

Deno.test("GET /v1/urls prefers a listed URL expression over a listing of the host's domain", async () => {
  await using node = await startNode({
    demo: true,
    mirror: [{ type: "url", value: "malware-c2.example/status/", verdict: "suspicious" }],
  });
  const res = await getUrl(node, "http://malware-c2.example/status/ping");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "suspicious");
  assert.deepEqual(res.body.match, { type: "url", value: "malware-c2.example/status/" });
});

Deno.test("GET /v1/urls falls back to a listed network that holds an IPv4 host", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "http://192.0.2.10/p");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "url",
    value: "http://192.0.2.10/p",
    verdict: "malicious",
    threat: "Demo.Scanner.Network",
    categories: ["demo"],
    ttl: node.config.lookup.defaultTtl,
    source: "demo",
    match: { type: "ip", value: "192.0.2.0/24" },
    via: "mirror",
  });
});

Deno.test("GET /v1/urls falls back to the most specific listed network of an IPv4 host", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "http://192.0.2.66:8080/login");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "http://192.0.2.66/login");
  assert.equal(res.body.verdict, "phishing");
  assert.deepEqual(res.body.match, { type: "ip", value: "192.0.2.66/32" });
});

Deno.test("GET /v1/urls finds a listed IP for a host written as one decimal number", async () => {
  await using node = await startNode({ demo: true });
  // 3221226050 is 192.0.2.66.
  const res = await getUrl(node, "http://3221226050/");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "http://192.0.2.66/");
  assert.equal(res.body.verdict, "phishing");
  assert.deepEqual(res.body.match, { type: "ip", value: "192.0.2.66/32" });
});

Deno.test("GET /v1/urls falls back to a listed IPv6 network that holds a bracketed host", async () => {
  await using node = await startNode({ demo: true });
  const res = await getUrl(node, "http://[2001:db8:bad::1]/p");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "http://[2001:db8:bad::1]/p");
  assert.equal(res.body.verdict, "malicious");
  assert.deepEqual(res.body.match, { type: "ip", value: "2001:db8:bad::/48" });
});

Deno.test("GET /v1/urls answers an unlisted URL with 200 unknown and its canonical form", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { unknownTtl: 77 } } });
  const res = await getUrl(node, "https://Example.COM/a/./b/../c?x=1");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("url", "https://example.com/a/c?x=1", 77));
});

Deno.test("GET /v1/urls reads the url parameter percent-decoded exactly once", async () => {
  await using node = await startNode({ demo: true });
  // A query string holding "&" only survives when the client encodes it.
  const res = await getJson(
    node,
    `/v1/urls?url=${encodeURIComponent("http://a.evil.example/?a=1&b=2")}`,
  );
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "http://a.evil.example/?a=1&b=2");
});
