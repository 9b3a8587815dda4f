/** Licence checks on the look-up API, over real HTTP: each 401 code and the accepted key forms. */
import assert from "node:assert/strict";
import {
  addLicence,
  assertError,
  assertUnauthorized,
  DAY_MS,
  DAY_S,
  LOOKUP,
  lookup,
  nowSeconds,
  readyClient,
  request,
  startAuthNode,
} from "./_licences.ts";

Deno.test("a look-up without a licence key is refused with 401 license_missing and a Bearer challenge", async () => {
  await using node = await startAuthNode();
  const message = assertUnauthorized(await lookup(node, undefined), "license_missing");
  assert.match(message, /Authorization: Bearer <key>/);
  assert.match(message, /X-License-Key: <key>/);
});

Deno.test("an Authorization header that is not a Bearer token is refused with 401 license_missing", async () => {
  await using node = await startAuthNode();
  for (const value of ["Basic x", "Bearer", "Bearer    ", "PKSN-KEY-WITHOUT-SCHEME"]) {
    const res = await request(node, LOOKUP, { headers: { authorization: value } });
    const message = assertUnauthorized(res, "license_missing");
    assert.match(message, /Bearer <licence key>/, `Authorization: ${value}`);
  }
});

Deno.test("an empty X-License-Key header is refused with 401 license_missing", async () => {
  await using node = await startAuthNode();
  const res = await request(node, LOOKUP, { headers: { "x-license-key": "   " } });
  assertUnauthorized(res, "license_missing");
});

Deno.test("an unregistered key is refused with 401 license_unknown asking for the new key's details to go to the service provider", async () => {
  await using node = await startAuthNode();
  await readyClient(node);
  const message = assertUnauthorized(
    await lookup(node, "PKSN-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"),
    "license_unknown",
  );
  assert.match(message, /the new key's details must be submitted to the service provider/);
});

Deno.test("a key that is not even well-formed is refused with 401 license_unknown without being echoed", async () => {
  await using node = await startAuthNode();
  const res = await lookup(node, "short!");
  const message = assertUnauthorized(res, "license_unknown");
  assert.doesNotMatch(message, /short!/);
});

Deno.test("a key past its expiry is refused with 401 license_expired naming the expiry and the service provider", async () => {
  await using node = await startAuthNode();
  const expires = nowSeconds(node) + DAY_S;
  const key = await readyClient(node, { expires });
  assert.equal((await lookup(node, key)).status, 200, "works before expiry");

  node.clock.set(expires * 1000 - 1000);
  assert.equal((await lookup(node, key)).status, 200, "works in its last second");

  node.clock.set(expires * 1000);
  const message = assertUnauthorized(await lookup(node, key), "license_expired");
  assert.match(message, new RegExp(new Date(expires * 1000).toISOString().slice(0, 19)));
  assert.match(message, /service provider/);
});

Deno.test("a revoked key is refused with 401 license_revoked", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  assert.equal((await lookup(node, key)).status, 200);

  node.serving.node.licences.revoke(key, "test", "contract ended");
  await node.serving.node.refreshIfChanged();

  const message = assertUnauthorized(await lookup(node, key), "license_revoked");
  assert.match(message, /revoked by the service provider/);
});

Deno.test("a key before its valid-from date is refused with 401 license_not_yet_valid, then works from that date", async () => {
  await using node = await startAuthNode();
  const validFrom = nowSeconds(node) + 2 * DAY_S;
  const key = await addLicence(node, { validFrom, expires: validFrom + 30 * DAY_S });

  const message = assertUnauthorized(await lookup(node, key), "license_not_yet_valid");
  assert.match(message, new RegExp(new Date(validFrom * 1000).toISOString().slice(0, 19)));
  assertUnauthorized(
    await request(node, "/v1/participation", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ mode: "none" }),
    }),
    "license_not_yet_valid",
  );

  node.clock.set(node.clock.now() + 2 * DAY_MS);
  const statement = await request(node, "/v1/statement");
  const accepted = await request(node, "/v1/participation", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ mode: "without-statistics", statementVersion: statement.body.version }),
  });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.equal((await lookup(node, key)).status, 200);
});

Deno.test("both Authorization: Bearer KEY and X-License-Key: KEY authenticate a look-up", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  const viaBearer = await request(node, LOOKUP, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(viaBearer.status, 200, JSON.stringify(viaBearer.body));
  assert.equal(viaBearer.body.verdict, "unknown");
  const viaHeader = await request(node, LOOKUP, { headers: { "x-license-key": key } });
  assert.equal(viaHeader.status, 200, JSON.stringify(viaHeader.body));
  const lowerScheme = await request(node, LOOKUP, { headers: { authorization: `bearer ${key}` } });
  assert.equal(lowerScheme.status, 200, "the Bearer scheme is case-insensitive");
});

Deno.test("a key typed in lower case or with surrounding spaces is the same licence", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node);
  assert.match(key, /^PKSN-/);
  const lower = await request(node, LOOKUP, { headers: { "x-license-key": key.toLowerCase() } });
  assert.equal(lower.status, 200, JSON.stringify(lower.body));
  const spaced = await request(node, LOOKUP, {
    headers: { authorization: `Bearer   ${key.toLowerCase()}  ` },
  });
  assert.equal(spaced.status, 200, JSON.stringify(spaced.body));
});

Deno.test("an operator-chosen key registered in lower case is matched by its upper-case form", async () => {
  await using node = await startAuthNode();
  const key = await readyClient(node, { key: "acme-2026-renewal" });
  assert.equal(key, "ACME-2026-RENEWAL");
  assert.equal((await lookup(node, "ACME-2026-RENEWAL")).status, 200);
  assert.equal((await lookup(node, "acme-2026-renewal")).status, 200);
});

Deno.test("POST /v1/lookup needs a licence and an accepted statement just like single look-ups", async () => {
  await using node = await startAuthNode();
  const batch = (headers: Record<string, string>): RequestInit => ({
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ items: [{ type: "domain", value: "example.org" }] }),
  });
  assertUnauthorized(await request(node, "/v1/lookup", batch({})), "license_missing");

  const key = await addLicence(node);
  assertError(
    await request(node, "/v1/lookup", batch({ "x-license-key": key })),
    403,
    "participation_required",
  );

  await readyClient(node, { key: "BATCH-CLIENT-KEY" });
  const ok = await request(node, "/v1/lookup", batch({ "x-license-key": "BATCH-CLIENT-KEY" }));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.results.length, 1);
});

Deno.test("every single-object route refuses a request without a licence", async () => {
  await using node = await startAuthNode();
  for (
    const path of [
      LOOKUP,
      "/v1/urls?url=http%3A%2F%2Fexample.org%2F",
      "/v1/domains/example.org",
      "/v1/ips/192.0.2.1",
      "/v1/certs/" + "ab".repeat(20),
    ]
  ) {
    assertUnauthorized(await request(node, path), "license_missing");
  }
});

Deno.test("health checks need no licence when licences are required", async () => {
  await using node = await startAuthNode();
  const res = await fetch(`${node.url}/healthz`);
  await res.body?.cancel();
  assert.equal(res.status, 200);
});
