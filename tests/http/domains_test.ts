/** GET /v1/domains/{name} over real HTTP. */
import assert from "node:assert/strict";
import { getJson, startNode, unknownResult } from "./_http.ts";

Deno.test("GET /v1/domains answers a listed domain", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/domains/malware-c2.example");
  assert.equal(res.status, 200);
  assert.equal(res.body.type, "domain");
  assert.equal(res.body.value, "malware-c2.example");
  assert.equal(res.body.verdict, "malicious");
  assert.equal(res.body.threat, "Demo.Botnet.C2");
  assert.equal(res.body.source, "demo");
});

Deno.test("GET /v1/domains answers a subdomain with its listed parent as match", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/domains/deep.sub.tracking.example");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "domain",
    value: "deep.sub.tracking.example",
    verdict: "suspicious",
    categories: ["demo"],
    ttl: node.config.lookup.defaultTtl,
    source: "demo",
    match: { type: "domain", value: "tracking.example" },
    via: "mirror",
  });
});

for (const overrides of [false, true]) {
  Deno.test(
    `GET /v1/domains lets the most specific listed parent win (${
      overrides ? "with" : "without"
    } local overrides on the node)`,
    async () => {
      await using node = await startNode({
        mirror: [
          { type: "domain", value: "parent.test", verdict: "malicious" },
          { type: "domain", value: "a.parent.test", verdict: "phishing" },
        ],
        local: overrides ? [{ type: "domain", value: "elsewhere.test", verdict: "clean" }] : [],
      });
      const specific = await getJson(node, "/v1/domains/x.a.parent.test");
      assert.equal(specific.status, 200);
      assert.equal(specific.body.verdict, "phishing");
      assert.deepEqual(specific.body.match, { type: "domain", value: "a.parent.test" });
      const sibling = await getJson(node, "/v1/domains/x.b.parent.test");
      assert.equal(sibling.status, 200);
      assert.equal(sibling.body.verdict, "malicious");
      assert.deepEqual(sibling.body.match, { type: "domain", value: "parent.test" });
    },
  );
}

Deno.test("GET /v1/domains normalises case and a trailing dot", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/domains/WWW.Malware-C2.Example.");
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "www.malware-c2.example");
  assert.equal(res.body.verdict, "malicious");
  assert.deepEqual(res.body.match, { type: "domain", value: "malware-c2.example" });
});

Deno.test("GET /v1/domains answers an internationalised name in its punycode form", async () => {
  await using node = await startNode({
    mirror: [{ type: "domain", value: "bücher.test", verdict: "suspicious" }],
  });
  const res = await getJson(node, `/v1/domains/${encodeURIComponent("Shop.Bücher.test")}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.value, "shop.xn--bcher-kva.test");
  assert.equal(res.body.verdict, "suspicious");
  assert.deepEqual(res.body.match, { type: "domain", value: "xn--bcher-kva.test" });
});

Deno.test("GET /v1/domains does not match a name that merely ends with a listed one", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, "/v1/domains/notmalware-c2.example");
  assert.equal(res.status, 200);
  assert.deepEqual(
    res.body,
    unknownResult("domain", "notmalware-c2.example", node.config.lookup.unknownTtl),
  );
});

Deno.test("GET /v1/domains answers an unlisted domain with 200 unknown", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { unknownTtl: 5 } } });
  const res = await getJson(node, "/v1/domains/Fine.Example.");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("domain", "fine.example", 5));
});
