/** GET /v1/certs/{thumbprint} over real HTTP. */
import assert from "node:assert/strict";
import { assertErrorResponse, EICAR, getJson, startNode, unknownResult } from "./_http.ts";

const SHA1_CERT = "00000000000000000000000000000000000ce401";
const SHA256_CERT = "00000000000000000000000000000000000000000000000000000000000ce402";

/** "AB:CD:…" as certificate tools print a thumbprint. */
function colonForm(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(":");
}

Deno.test("GET /v1/certs answers a listed SHA-1 thumbprint", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, `/v1/certs/${SHA1_CERT}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "cert",
    value: SHA1_CERT,
    verdict: "malicious",
    threat: "Demo.StolenCertificate",
    categories: ["demo", "code-signing"],
    ttl: node.config.lookup.defaultTtl,
    source: "demo",
    via: "mirror",
  });
});

Deno.test("GET /v1/certs answers a listed SHA-256 thumbprint", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, `/v1/certs/${SHA256_CERT}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "cert",
    value: SHA256_CERT,
    verdict: "clean",
    categories: ["demo", "code-signing"],
    ttl: node.config.lookup.defaultTtl,
    source: "demo",
    via: "mirror",
  });
});

Deno.test("GET /v1/certs accepts the colon-separated upper-case form and answers the compact lower-case one", async () => {
  await using node = await startNode({ demo: true });
  for (const thumbprint of [SHA1_CERT, SHA256_CERT]) {
    const res = await getJson(node, `/v1/certs/${colonForm(thumbprint)}`);
    assert.equal(res.status, 200, thumbprint);
    assert.equal(res.body.value, thumbprint);
    assert.equal(res.body.type, "cert");
    assert.notEqual(res.body.verdict, "unknown");
  }
});

Deno.test("GET /v1/certs accepts a space-separated thumbprint", async () => {
  await using node = await startNode({ demo: true });
  const spaced = SHA1_CERT.match(/../g)!.join(" ");
  const res = await getJson(node, `/v1/certs/${encodeURIComponent(spaced)}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.value, SHA1_CERT);
  assert.equal(res.body.verdict, "malicious");
});

Deno.test("GET /v1/certs answers an unlisted thumbprint with 200 unknown", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { unknownTtl: 60 } } });
  const thumbprint = "ab".repeat(32);
  const res = await getJson(node, `/v1/certs/${colonForm(thumbprint)}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("cert", thumbprint, 60));
});

Deno.test("GET /v1/certs does not find a file listed under the same digest", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, `/v1/certs/${EICAR.sha1}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("cert", EICAR.sha1, node.config.lookup.unknownTtl));
});

Deno.test("GET /v1/certs rejects an MD5-length thumbprint with 400 invalid_thumbprint", async () => {
  await using node = await startNode();
  const res = await fetch(`${node.url}/v1/certs/${EICAR.md5}`);
  const message = await assertErrorResponse(res, 400, "invalid_thumbprint");
  assert.ok(message.includes(JSON.stringify(EICAR.md5)), message);
});
