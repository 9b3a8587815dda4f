/** POST /v1/lookup over real HTTP: batches, per-item errors and request-level limits. */
import assert from "node:assert/strict";
import {
  assertErrorBody,
  assertErrorResponse,
  assertJsonType,
  EICAR,
  getJson,
  postLookup,
  startNode,
  unknownResult,
} from "./_http.ts";

const encoder = new TextEncoder();

/** A JSON body of exactly `size` bytes holding one EICAR look-up, padded with spaces. */
function paddedBody(size: number): string {
  const json = JSON.stringify({ items: [{ type: "file", value: EICAR.md5 }] });
  assert.ok(size >= json.length);
  return json + " ".repeat(size - json.length);
}

Deno.test("POST /v1/lookup answers a mixed batch in input order, each as its GET route would", async () => {
  await using node = await startNode({ demo: true });
  const items: [type: string, value: string, path: string][] = [
    ["ip", "192.0.2.66", "/v1/ips/192.0.2.66"],
    ["file", EICAR.md5.toUpperCase(), `/v1/files/${EICAR.md5}`],
    [
      "url",
      "http://a.b.evil.example/x/y?q=1",
      `/v1/urls?url=${encodeURIComponent("http://a.b.evil.example/x/y?q=1")}`,
    ],
    ["domain", "api.status.malware-c2.example", "/v1/domains/api.status.malware-c2.example"],
    [
      "cert",
      "00000000000000000000000000000000000ce401",
      "/v1/certs/00000000000000000000000000000000000ce401",
    ],
    ["domain", "nothing.example", "/v1/domains/nothing.example"],
  ];
  const res = await postLookup(node, { items: items.map(([type, value]) => ({ type, value })) });
  assert.equal(res.status, 200);
  assertJsonType(res.headers);
  assert.deepEqual(Object.keys(res.body), ["results"]);
  assert.equal(res.body.results.length, items.length);
  for (let i = 0; i < items.length; i++) {
    const single = await getJson(node, items[i][2]);
    assert.deepEqual(res.body.results[i], single.body, `item ${i}`);
  }
});

Deno.test("POST /v1/lookup gives each bad item its own error while the others succeed", async () => {
  await using node = await startNode({ demo: true });
  const res = await postLookup(node, {
    items: [
      { type: "file", value: EICAR.md5 },
      { type: "file", value: "abc" },
      { type: "domain", value: "malware-c2.example" },
      { type: "host", value: "malware-c2.example" },
      42,
      { type: "file" },
      { type: "ip", value: "192.0.2.1" },
      null,
      { type: "url", value: "mailto:someone@example.com" },
    ],
  });
  assert.equal(res.status, 200);
  const results = res.body.results;
  assert.equal(results.length, 9);

  assert.equal(results[0].verdict, "malicious");
  assert.deepEqual(results[1], {
    type: "file",
    value: "abc",
    error: {
      code: "invalid_hash",
      message:
        'Invalid hash "abc": expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256) hex characters, got 3',
    },
  });
  assert.equal(results[2].verdict, "malicious");
  assert.equal(results[3].error.code, "invalid_type");
  assert.ok(results[3].error.message.includes('"host"'), results[3].error.message);
  assert.deepEqual(results[4], {
    error: {
      code: "invalid_item",
      message: 'Item 4: expected an object with string "type" and "value"',
    },
  });
  assert.deepEqual(results[5], {
    error: {
      code: "invalid_item",
      message: 'Item 5: expected an object with string "type" and "value"',
    },
  });
  assert.equal(results[6].verdict, "malicious");
  assert.equal(results[7].error.code, "invalid_item");
  assert.equal(results[8].error.code, "invalid_url");
  for (const i of [1, 3, 4, 5, 7, 8]) {
    assert.deepEqual(Object.keys(results[i].error), ["code", "message"], `item ${i}`);
    assert.ok(!("verdict" in results[i]), `item ${i}`);
  }
});

Deno.test("POST /v1/lookup answers an empty batch with no results", async () => {
  await using node = await startNode({ demo: true });
  const res = await postLookup(node, { items: [] });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { results: [] });
});

Deno.test("POST /v1/lookup accepts 1000 items", async () => {
  await using node = await startNode({ demo: true });
  const items = Array.from(
    { length: 1000 },
    (_, i) =>
      i % 2 === 0
        ? { type: "file", value: EICAR.md5 }
        : { type: "ip", value: `198.51.${i >> 8}.${i & 255}` },
  );
  const res = await postLookup(node, { items });
  assert.equal(res.status, 200);
  assert.equal(res.body.results.length, 1000);
  for (let i = 0; i < 1000; i++) {
    if (i % 2 === 0) {
      assert.equal(res.body.results[i].verdict, "malicious", `item ${i}`);
    } else {
      assert.deepEqual(
        res.body.results[i],
        unknownResult("ip", items[i].value, node.config.lookup.unknownTtl),
        `item ${i}`,
      );
    }
  }
});

Deno.test("POST /v1/lookup rejects 1001 items with 413 too_many_items", async () => {
  await using node = await startNode({ demo: true });
  const items = Array.from({ length: 1001 }, () => ({ type: "file", value: EICAR.md5 }));
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ items }),
  });
  const message = await assertErrorResponse(res, 413, "too_many_items");
  assert.equal(message, "Too many items: 1001; at most 1000 per request");
});

Deno.test("POST /v1/lookup holds batches to the configured lookup.maxBatchItems", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { maxBatchItems: 2 } } });
  const item = { type: "file", value: EICAR.md5 };
  const ok = await postLookup(node, { items: [item, item] });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.results.length, 2);
  const tooMany = await postLookup(node, { items: [item, item, item] });
  assert.equal(tooMany.status, 413);
  assertErrorBody(tooMany.body, "too_many_items");
});

Deno.test("POST /v1/lookup rejects a text/plain body with 415 unsupported_media_type", async () => {
  await using node = await startNode({ demo: true });
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify({ items: [] }),
  });
  const message = await assertErrorResponse(res, 415, "unsupported_media_type");
  assert.equal(message, 'Unsupported content type "text/plain": expected "application/json"');
});

Deno.test("POST /v1/lookup rejects a body without a content type with 415 unsupported_media_type", async () => {
  await using node = await startNode({ demo: true });
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    body: encoder.encode(JSON.stringify({ items: [] })),
  });
  const message = await assertErrorResponse(res, 415, "unsupported_media_type");
  assert.ok(message.includes("(none)"), message);
});

Deno.test("POST /v1/lookup accepts application/json with parameters and in any case", async () => {
  await using node = await startNode({ demo: true });
  for (const type of ["application/json; charset=utf-8", "Application/JSON"]) {
    const res = await fetch(`${node.url}/v1/lookup`, {
      method: "POST",
      headers: { "content-type": type },
      body: JSON.stringify({ items: [{ type: "file", value: EICAR.md5 }] }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, type);
    assert.equal(body.results[0].verdict, "malicious", type);
  }
});

Deno.test("POST /v1/lookup rejects a body over lookup.maxBodyBytes sent with a Content-Length with 413 body_too_large", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { maxBodyBytes: 2048 } } });
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: paddedBody(2049),
  });
  const message = await assertErrorResponse(res, 413, "body_too_large");
  assert.equal(message, "Request body is larger than 2048 bytes");
});

Deno.test("POST /v1/lookup accepts a body of exactly lookup.maxBodyBytes", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { maxBodyBytes: 2048 } } });
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: paddedBody(2048),
  });
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(body.results[0].verdict, "malicious");
});

Deno.test("POST /v1/lookup rejects a chunked body that grows over lookup.maxBodyBytes with 413 body_too_large", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { maxBodyBytes: 2048 } } });
  const bytes = encoder.encode(paddedBody(3000));
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // A stream has no length up front, so the body goes out chunked.
    body: ReadableStream.from([bytes.slice(0, 1000), bytes.slice(1000, 2000), bytes.slice(2000)]),
    duplex: "half",
  } as RequestInit);
  const message = await assertErrorResponse(res, 413, "body_too_large");
  assert.equal(message, "Request body is larger than 2048 bytes");
});

Deno.test("POST /v1/lookup accepts a chunked body within lookup.maxBodyBytes", async () => {
  await using node = await startNode({ demo: true, config: { lookup: { maxBodyBytes: 2048 } } });
  const bytes = encoder.encode(paddedBody(1500));
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: ReadableStream.from([bytes.slice(0, 700), bytes.slice(700)]),
    duplex: "half",
  } as RequestInit);
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(body.results[0].verdict, "malicious");
});

Deno.test("POST /v1/lookup rejects a body that is not JSON with 400 invalid_json", async () => {
  await using node = await startNode({ demo: true });
  for (const text of ['{"items": [', "items=1", ""]) {
    const res = await fetch(`${node.url}/v1/lookup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    const message = await assertErrorResponse(res, 400, "invalid_json");
    assert.ok(message.startsWith("Request body is not JSON: "), message);
  }
});

Deno.test("POST /v1/lookup rejects a body that is not UTF-8 with 400 invalid_json", async () => {
  await using node = await startNode({ demo: true });
  const res = await fetch(`${node.url}/v1/lookup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d),
  });
  const message = await assertErrorResponse(res, 400, "invalid_json");
  assert.equal(message, "Request body is not valid UTF-8");
});

Deno.test("POST /v1/lookup rejects JSON that is not an items envelope with 400 invalid_request", async () => {
  await using node = await startNode({ demo: true });
  const wrong: unknown[] = [
    [],
    null,
    "items",
    {},
    { item: [] },
    { items: {} },
    { items: "file" },
    { items: [], extra: true },
  ];
  for (const body of wrong) {
    const res = await postLookup(node, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assertErrorBody(res.body, "invalid_request");
    assert.ok(res.body.error.message.includes('{"items":'), res.body.error.message);
  }
});
