/**
 * Local overrides over real HTTP. The rule: any matching local override wins over
 * every mirror entry, the most specific override first.
 */
import assert from "node:assert/strict";
import { EICAR, getJson, getUrl, startNode } from "./_http.ts";

Deno.test("GET /v1/files answers a local override instead of a mirror entry for the same hash", async () => {
  await using node = await startNode({
    demo: true,
    local: [{
      type: "file",
      md5: EICAR.md5,
      verdict: "clean",
      categories: ["allowlist"],
      ttl: 60,
      source: "operator",
    }],
  });
  const res = await getJson(node, `/v1/files/${EICAR.md5}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "file",
    value: EICAR.md5,
    verdict: "clean",
    categories: ["allowlist"],
    ttl: 60,
    source: "operator",
    override: true,
    via: "override",
  });
  // The other hashes of the same file are not overridden.
  const sha1 = await getJson(node, `/v1/files/${EICAR.sha1}`);
  assert.equal(sha1.body.verdict, "malicious");
  assert.equal(sha1.body.override, undefined);
});

Deno.test("GET /v1/domains answers a local override instead of a mirror entry for the same name", async () => {
  await using node = await startNode({
    demo: true,
    local: [{ type: "domain", value: "tracking.example", verdict: "clean", source: "operator" }],
  });
  const res = await getJson(node, "/v1/domains/tracking.example");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "clean");
  assert.equal(res.body.source, "operator");
  assert.equal(res.body.override, true);
  assert.deepEqual(res.body.match, { type: "domain", value: "tracking.example" });
});

Deno.test("GET /v1/domains lets an override on a parent domain beat a more specific mirror entry", async () => {
  await using node = await startNode({
    mirror: [{ type: "domain", value: "sub.parent.test", verdict: "malicious" }],
    local: [{ type: "domain", value: "parent.test", verdict: "clean", source: "operator" }],
  });
  const res = await getJson(node, "/v1/domains/x.sub.parent.test");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "domain",
    value: "x.sub.parent.test",
    verdict: "clean",
    ttl: node.config.lookup.defaultTtl,
    source: "operator",
    override: true,
    match: { type: "domain", value: "parent.test" },
    via: "override",
  });
});

Deno.test("GET /v1/domains lets the most specific of two matching overrides win", async () => {
  await using node = await startNode({
    local: [
      { type: "domain", value: "parent.test", verdict: "clean" },
      { type: "domain", value: "sub.parent.test", verdict: "suspicious" },
    ],
  });
  const res = await getJson(node, "/v1/domains/x.sub.parent.test");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "suspicious");
  assert.equal(res.body.override, true);
  assert.deepEqual(res.body.match, { type: "domain", value: "sub.parent.test" });
});

Deno.test("GET /v1/domains answers the demo allowlist override below a listed C2 domain", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/domains/api.status.malware-c2.example");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "clean");
  assert.equal(res.body.source, "demo-operator");
  assert.equal(res.body.override, true);
  assert.deepEqual(res.body.match, { type: "domain", value: "status.malware-c2.example" });
  const sibling = await getJson(node, "/v1/domains/api.malware-c2.example");
  assert.equal(sibling.body.verdict, "malicious");
  assert.equal(sibling.body.override, undefined);
});

Deno.test("GET /v1/ips lets an override on a wider network beat a listed address", async () => {
  await using node = await startNode({
    mirror: [{ type: "ip", value: "198.51.100.7", verdict: "malicious" }],
    local: [{ type: "ip", value: "198.51.100.0/24", verdict: "clean", source: "operator" }],
  });
  const res = await getJson(node, "/v1/ips/198.51.100.7");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "clean");
  assert.equal(res.body.override, true);
  assert.deepEqual(res.body.match, { type: "ip", value: "198.51.100.0/24" });
});

Deno.test("GET /v1/urls lets an override on the host's domain beat a mirror URL listing", async () => {
  await using node = await startNode({
    demo: true,
    local: [{ type: "domain", value: "evil.example", verdict: "clean", source: "operator" }],
  });
  const res = await getUrl(node, "http://www.evil.example/x");
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "clean");
  assert.equal(res.body.override, true);
  assert.deepEqual(res.body.match, { type: "domain", value: "evil.example" });
});

Deno.test("GET /v1/certs answers a local override instead of a mirror entry", async () => {
  const thumbprint = "00000000000000000000000000000000000ce401";
  await using node = await startNode({
    demo: true,
    local: [{ type: "cert", sha1: thumbprint, verdict: "clean", source: "operator" }],
  });
  const res = await getJson(node, `/v1/certs/${thumbprint}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.verdict, "clean");
  assert.equal(res.body.override, true);
});

Deno.test("GET answers from the mirror carry no override field", async () => {
  await using node = await startNode({ demo: true });
  for (const path of [`/v1/files/${EICAR.md5}`, "/v1/domains/malware-c2.example"]) {
    const res = await getJson(node, path);
    assert.equal(res.status, 200, path);
    assert.ok(!("override" in res.body), JSON.stringify(res.body));
  }
});
