/** GET /v1/files/{md5|sha1|sha256} over real HTTP. */
import assert from "node:assert/strict";
import { assertJsonType, EICAR, getJson, startNode, unknownResult } from "./_http.ts";

const EICAR_RESULT = {
  verdict: "malicious",
  threat: "EICAR-Test-File",
  categories: ["demo", "test-file"],
  ttl: 86400,
  source: "demo",
  firstSeen: "2026-01-01T00:00:00Z",
  lastSeen: "2026-11-01T00:00:00Z",
  via: "mirror",
};

Deno.test("GET /v1/files answers the EICAR test file by its MD5 with its full record", async () => {
  await using node = await startNode({ demo: true });
  const res = await getJson(node, `/v1/files/${EICAR.md5}`);
  assert.equal(res.status, 200);
  assertJsonType(res.headers);
  assert.deepEqual(res.body, { type: "file", value: EICAR.md5, ...EICAR_RESULT });
});

Deno.test("GET /v1/files finds a record listed by MD5, SHA-1 and SHA-256 by each of its hashes", async () => {
  const record = {
    md5: "0123456789abcdef0123456789abcdef",
    sha1: "0123456789abcdef0123456789abcdef01234567",
    sha256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  };
  await using node = await startNode({
    mirror: [{
      type: "file",
      ...record,
      verdict: "suspicious",
      threat: "Test.Three.Hashes",
      source: "lab",
    }],
  });
  for (const hash of [record.md5, record.sha1, record.sha256]) {
    const res = await getJson(node, `/v1/files/${hash}`);
    assert.equal(res.status, 200, hash);
    assert.deepEqual(res.body, {
      type: "file",
      value: hash,
      verdict: "suspicious",
      threat: "Test.Three.Hashes",
      ttl: node.config.lookup.defaultTtl,
      source: "lab",
      via: "mirror",
    });
  }
});

Deno.test("GET /v1/files finds a record by an upper-case hash and answers the lower-case hash", async () => {
  await using node = await startNode({ demo: true });
  for (const hash of [EICAR.md5, EICAR.sha1, EICAR.sha256]) {
    const res = await getJson(node, `/v1/files/${hash.toUpperCase()}`);
    assert.equal(res.status, 200, hash);
    assert.deepEqual(res.body, { type: "file", value: hash, ...EICAR_RESULT });
  }
});

Deno.test("GET /v1/files finds a record by a mixed-case hash", async () => {
  await using node = await startNode({ demo: true });
  const mixed = EICAR.sha1.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));
  const res = await getJson(node, `/v1/files/${mixed}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.value, EICAR.sha1);
  assert.equal(res.body.verdict, "malicious");
});

Deno.test("GET /v1/files answers an unlisted hash with 200 unknown, the configured unknown TTL and source none", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { unknownTtl: 42 } } });
  const hash = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
  const res = await getJson(node, `/v1/files/${hash}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("file", hash, 42));
});

Deno.test("GET /v1/files answers unknown for a hash that shares its first four bytes with a listed one", async () => {
  await using node = await startNode({ demo: true });
  // Same 32-bit prefix as the EICAR MD5, so the in-memory index says "maybe".
  const hash = `${EICAR.md5.slice(0, 8)}${"0".repeat(24)}`;
  const res = await getJson(node, `/v1/files/${hash}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("file", hash, node.config.lookup.unknownTtl));
});

Deno.test("GET /v1/files gives a record that carries no TTL the configured default TTL", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { defaultTtl: 120 } } });
  const hash = "0000000000000000000000000000000000000000000000000000000000de0001";
  const res = await getJson(node, `/v1/files/${hash}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    type: "file",
    value: hash,
    verdict: "adware",
    threat: "Demo.Adware.Toolbar",
    categories: ["demo"],
    ttl: 120,
    source: "demo",
    via: "mirror",
  });
});

Deno.test("GET /v1/files answers each listed verdict of the demo data", async () => {
  await using node = await startNode({ demo: true });
  const cases: [string, string][] = [
    ["00000000000000000000000000de0002", "suspicious"],
    ["000000000000000000000000000000000000de03", "clean"],
    ["0000000000000000000000000000000000000000000000000000000000de0001", "adware"],
  ];
  for (const [hash, verdict] of cases) {
    const res = await getJson(node, `/v1/files/${hash}`);
    assert.equal(res.status, 200, hash);
    assert.equal(res.body.verdict, verdict, hash);
    assert.equal(res.body.value, hash);
  }
});

Deno.test("GET /v1/files does not find a certificate listed under the same digest", async () => {
  await using node = await startNode({ demo: true });
  // The demo data lists this SHA-1 as a code-signing certificate, not as a file.
  const digest = "00000000000000000000000000000000000ce401";
  const res = await getJson(node, `/v1/files/${digest}`);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, unknownResult("file", digest, node.config.lookup.unknownTtl));
});
