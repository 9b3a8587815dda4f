/** GET /v1/ips/{address or CIDR} over real HTTP. */
import assert from "node:assert/strict";
import { getJson, startNode, unknownResult } from "./_http.ts";

const NETWORKS = [
  { type: "ip", value: "10.0.0.0/8", verdict: "malicious", threat: "Test.Wide" },
  { type: "ip", value: "10.1.0.0/16", verdict: "clean" },
  { type: "ip", value: "2001:db8:bad:1::/64", verdict: "clean" },
];

Deno.test("GET /v1/ips answers an exactly listed address, which beats the network around it", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/ips/192.0.2.66");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "ip",
    value: "192.0.2.66",
    verdict: "phishing",
    threat: "Demo.Phishing.Host",
    categories: ["demo"],
    ttl: node.config.lookup.defaultTtl,
    source: "demo",
    match: { type: "ip", value: "192.0.2.66/32" },
    via: "mirror",
  });
});

Deno.test("GET /v1/ips answers an address inside a listed network with the network as match", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/ips/192.0.2.1");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "192.0.2.1");
  assert.equal(res.body.verdict, "malicious");
  assert.equal(res.body.threat, "Demo.Scanner.Network");
  assert.deepEqual(res.body.match, { type: "ip", value: "192.0.2.0/24" });
});

Deno.test("GET /v1/ips lets the longest listed IPv4 prefix win over a shorter one", async () => {
  await using node = await startNode({ mirror: NETWORKS });
  const inner = await getJson(node, "/v1/ips/10.1.2.3");
  assert.equal(inner.status, 200);
  assert.equal(inner.body.verdict, "clean");
  assert.deepEqual(inner.body.match, { type: "ip", value: "10.1.0.0/16" });
  const outer = await getJson(node, "/v1/ips/10.2.0.1");
  assert.equal(outer.status, 200);
  assert.equal(outer.body.verdict, "malicious");
  assert.equal(outer.body.threat, "Test.Wide");
  assert.deepEqual(outer.body.match, { type: "ip", value: "10.0.0.0/8" });
});

Deno.test("GET /v1/ips answers an address inside a listed IPv6 network", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/ips/2001:db8:bad:ffff::1");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "2001:db8:bad:ffff::1");
  assert.equal(res.body.verdict, "malicious");
  assert.equal(res.body.threat, "Demo.Scanner.Network6");
  assert.deepEqual(res.body.match, { type: "ip", value: "2001:db8:bad::/48" });
});

Deno.test("GET /v1/ips lets the longest listed IPv6 prefix win over a shorter one", async () => {
  await using node = await startNode({ demo: true, mirror: NETWORKS });
  const res = await getJson(node, "/v1/ips/2001:db8:bad:1::5");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "clean");
  assert.deepEqual(res.body.match, { type: "ip", value: "2001:db8:bad:1::/64" });
});

Deno.test("GET /v1/ips answers an IPv6 address outside every listed network as unknown", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/ips/2001:db8:bae::1");
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body,
    unknownResult("ip", "2001:db8:bae::1", node.config.lookup.unknownTtl),
  );
});

Deno.test("GET /v1/ips answers an IPv6 address in RFC 5952 form", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/ips/2001:0DB8:0BAD:0000:0000:0000:0000:0001");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "2001:db8:bad::1");
  assert.equal(res.body.verdict, "malicious");
});

Deno.test("GET /v1/ips finds IPv4 entries for an IPv4-mapped IPv6 address", async () => {
  await using node = await startNode({ demo: true });
  for (const mapped of ["::ffff:192.0.2.66", "::ffff:c000:242", "[::ffff:192.0.2.66]"]) {
    const res = await getJson(node, `/v1/ips/${mapped}`);
    assert.equal(res.status, 200, mapped);
    assert.equal(res.body.value, "192.0.2.66", mapped);
    assert.equal(res.body.verdict, "phishing", mapped);
    assert.deepEqual(res.body.match, { type: "ip", value: "192.0.2.66/32" });
  }
  const inNetwork = await getJson(node, "/v1/ips/::ffff:192.0.2.9");
  assert.equal(inNetwork.status, 200);
  assert.deepEqual(inNetwork.body.match, { type: "ip", value: "192.0.2.0/24" });
});

Deno.test("GET /v1/ips takes a CIDR both as /v1/ips/10.0.0.0/8 and with the slash as %2F", async () => {
  await using node = await startNode({ mirror: NETWORKS });
  const plain = await getJson(node, "/v1/ips/10.0.0.0/8");
  const encoded = await getJson(node, "/v1/ips/10.0.0.0%2F8");
  for (const res of [plain, encoded]) {
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      type: "ip",
      value: "10.0.0.0/8",
      verdict: "malicious",
      threat: "Test.Wide",
      ttl: node.config.lookup.defaultTtl,
      source: "test",
      match: { type: "ip", value: "10.0.0.0/8" },
      via: "mirror",
    });
  }
});

Deno.test("GET /v1/ips answers a CIDR inside a listed network with the wider network", async () => {
  await using node = await startNode({ mirror: NETWORKS });
  const res = await getJson(node, "/v1/ips/10.200.0.0/16");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "10.200.0.0/16");
  assert.equal(res.body.verdict, "malicious");
  assert.deepEqual(res.body.match, { type: "ip", value: "10.0.0.0/8" });
});

Deno.test("GET /v1/ips does not answer a CIDR with a narrower network listed inside it", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/ips/192.0.0.0/16");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("ip", "192.0.0.0/16", node.config.lookup.unknownTtl));
});

Deno.test("GET /v1/ips takes an IPv6 CIDR in the path", async () => {
  await using node = await startNode({ demo: true });
  for (const path of ["/v1/ips/2001:DB8:BAD::/48", "/v1/ips/2001:db8:bad::%2F48"]) {
    const res = await getJson(node, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.body.value, "2001:db8:bad::/48", path);
    assert.equal(res.body.verdict, "malicious", path);
  }
});

Deno.test("GET /v1/ips answers an unlisted address with 200 unknown", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { unknownTtl: 9 } } });
  const res = await getJson(node, "/v1/ips/198.51.100.1");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("ip", "198.51.100.1", 9));
});
