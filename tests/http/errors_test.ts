/**
 * Error responses over real HTTP: every one is exactly {"error":{"code","message"}}
 * with a JSON content type, and the message names what was wrong.
 */
import assert from "node:assert/strict";
import { assertErrorResponse, EICAR, startNode, stopAfterClosingDatabase } from "./_http.ts";

Deno.test("GET /v1/files rejects a 31-character hash with 400 invalid_hash", async () => {
  await using node = await startNode();
  const hash = "a".repeat(31);
  const message = await assertErrorResponse(
    await fetch(`${node.url}/v1/files/${hash}`),
    400,
    "invalid_hash",
  );
  assert.equal(
    message,
    `Invalid hash "${hash}": expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256) hex characters, got 31`,
  );
});

Deno.test("GET /v1/files rejects a 65-character hash with 400 invalid_hash", async () => {
  await using node = await startNode();
  const hash = "b".repeat(65);
  const message = await assertErrorResponse(
    await fetch(`${node.url}/v1/files/${hash}`),
    400,
    "invalid_hash",
  );
  assert.ok(message.includes(`"${hash}"`), message);
  assert.ok(message.endsWith("got 65"), message);
});

Deno.test("GET /v1/files rejects a hash with a non-hex character with 400 invalid_hash naming it", async () => {
  await using node = await startNode();
  const hash = `${EICAR.md5.slice(0, 10)}g${EICAR.md5.slice(11)}`;
  const message = await assertErrorResponse(
    await fetch(`${node.url}/v1/files/${hash}`),
    400,
    "invalid_hash",
  );
  assert.equal(message, `Invalid hash "${hash}": "g" at position 11 is not a hex digit`);
});

Deno.test("GET /v1/urls rejects an unsupported scheme with 400 invalid_url", async () => {
  await using node = await startNode();
  const url = "javascript:alert(1)";
  const message = await assertErrorResponse(
    await fetch(`${node.url}/v1/urls?url=${encodeURIComponent(url)}`),
    400,
    "invalid_url",
  );
  assert.ok(message.startsWith(`Invalid URL "${url}": `), message);
  assert.ok(message.includes('scheme "javascript" is not supported'), message);
});

Deno.test("GET /v1/urls rejects a URL without a host with 400 invalid_url", async () => {
  await using node = await startNode();
  // "http:///path" is not here: browsers read it as host "path", and so does the node.
  for (const url of ["http://", "http://user@/path", "https://[2001:db8::1/"]) {
    const message = await assertErrorResponse(
      await fetch(`${node.url}/v1/urls?url=${encodeURIComponent(url)}`),
      400,
      "invalid_url",
    );
    assert.ok(message.startsWith(`Invalid URL "${url}": `), message);
  }
});

Deno.test("GET /v1/urls without a url parameter answers 400 missing_parameter", async () => {
  await using node = await startNode();
  for (const query of ["", "?url=", "?uri=http%3A%2F%2Fevil.example%2F"]) {
    const message = await assertErrorResponse(
      await fetch(`${node.url}/v1/urls${query}`),
      400,
      "missing_parameter",
    );
    assert.ok(message.includes('"url"'), message);
  }
});

Deno.test("GET /v1/ips rejects a malformed address with 400 naming the input", async () => {
  await using node = await startNode();
  for (const address of ["999.1.1.1", "1.2.3", "01.2.3.4", "2001:db8::g", "1:2:3:4:5:6:7:8:9"]) {
    const res = await fetch(`${node.url}/v1/ips/${address}`);
    const text = await res.text();
    assert.equal(res.status, 400, text);
    const body = JSON.parse(text);
    assert.ok(["invalid_ip", "invalid_cidr"].includes(body.error.code), text);
    assert.ok(body.error.message.includes(`"${address}"`), text);
  }
});

Deno.test({
  name: "GET /v1/ips rejects a malformed address without a prefix with 400 invalid_ip",
  async fn(): Promise<void> {
    await using node = await startNode();
    const message = await assertErrorResponse(
      await fetch(`${node.url}/v1/ips/999.1.1.1`),
      400,
      "invalid_ip",
    );
    assert.equal(message, 'Invalid IP address "999.1.1.1": part "999" is above 255');
  },
});

Deno.test("GET /v1/ips rejects a CIDR with host bits set with 400 invalid_cidr naming the network meant", async () => {
  await using node = await startNode();
  for (const path of ["/v1/ips/10.0.0.1/8", "/v1/ips/10.0.0.1%2F8"]) {
    const message = await assertErrorResponse(
      await fetch(node.url + path),
      400,
      "invalid_cidr",
    );
    assert.equal(
      message,
      'Invalid CIDR "10.0.0.1/8": host bits are set; did you mean "10.0.0.0/8"',
    );
  }
});

Deno.test("GET /v1/ips rejects a prefix length out of range with 400 invalid_cidr", async () => {
  await using node = await startNode();
  for (const [cidr, problem] of [["10.0.0.0/33", "0-32"], ["2001:db8::/129", "0-128"]]) {
    const message = await assertErrorResponse(
      await fetch(`${node.url}/v1/ips/${cidr}`),
      400,
      "invalid_cidr",
    );
    assert.ok(message.startsWith(`Invalid CIDR "${cidr}": `), message);
    assert.ok(message.endsWith(`is out of range ${problem}`), message);
  }
});

Deno.test("GET /v1/ips rejects an IPv6 zone identifier with 400", async () => {
  await using node = await startNode();
  const res = await fetch(`${node.url}/v1/ips/fe80::1%25eth0`);
  const text = await res.text();
  assert.equal(res.status, 400, text);
  assert.ok(text.includes("zone identifiers"), text);
});

Deno.test("GET /v1/domains rejects what is not a host name with 400 invalid_domain", async () => {
  await using node = await startNode();
  const cases: [name: string, problem: string][] = [
    ["192.0.2.1", 'an IP address, look it up as type "ip"'],
    ["bad name.example", "expected dot-separated labels of letters, digits, '-' or '_'"],
    ["-dash.example", "expected dot-separated labels of letters, digits, '-' or '_'"],
    ["a..b.example", "expected dot-separated labels of letters, digits, '-' or '_'"],
    [`${"a".repeat(64)}.example`, "expected dot-separated labels of letters, digits, '-' or '_'"],
  ];
  for (const [name, problem] of cases) {
    const message = await assertErrorResponse(
      await fetch(`${node.url}/v1/domains/${encodeURIComponent(name)}`),
      400,
      "invalid_domain",
    );
    assert.equal(message, `Invalid domain "${name}": ${problem}`);
  }
});

Deno.test("GET /v1/domains rejects a name over 253 characters with 400 invalid_domain", async () => {
  await using node = await startNode();
  const name = Array.from({ length: 5 }, () => "a".repeat(60)).join(".");
  const message = await assertErrorResponse(
    await fetch(`${node.url}/v1/domains/${name}`),
    400,
    "invalid_domain",
  );
  assert.ok(message.endsWith("longer than 253 characters (304)"), message);
});

Deno.test("an unknown route answers 404 not_found naming the path", async () => {
  await using node = await startNode();
  for (const path of ["/nope", "/v1/files", "/v1/files/", "/v1/files/a/b", "/v1/file/abc", "/"]) {
    const message = await assertErrorResponse(await fetch(node.url + path), 404, "not_found");
    assert.equal(message, `No route for "${path}"`);
  }
  const post = await fetch(`${node.url}/v2/lookup`, { method: "POST" });
  await assertErrorResponse(post, 404, "not_found");
});

Deno.test("a wrong method answers 405 method_not_allowed with an Allow header", async () => {
  await using node = await startNode();
  const cases: [method: string, path: string, allow: string][] = [
    ["POST", `/v1/files/${EICAR.md5}`, "GET, HEAD"],
    ["DELETE", "/v1/urls?url=evil.example", "GET, HEAD"],
    ["PUT", "/v1/domains/evil.example", "GET, HEAD"],
    ["POST", "/v1/ips/10.0.0.0/8", "GET, HEAD"],
    ["PATCH", "/v1/certs/00000000000000000000000000000000000ce401", "GET, HEAD"],
    ["GET", "/v1/lookup", "POST"],
    ["PUT", "/v1/lookup", "POST"],
    ["POST", "/healthz", "GET, HEAD"],
    ["POST", "/readyz", "GET, HEAD"],
    ["DELETE", "/metrics", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await fetch(node.url + path, { method });
    assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    const message = await assertErrorResponse(res, 405, "method_not_allowed");
    const bare = path.split("?")[0];
    assert.equal(message, `Method "${method}" is not allowed on "${bare}": use ${allow}`);
  }
});

Deno.test("HEAD /v1/files answers 200 with a JSON content type and no body", async () => {
  await using node = await startNode({ demo: true });
  const res = await fetch(`${node.url}/v1/files/${EICAR.md5}`, { method: "HEAD" });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(await res.text(), "");
});

Deno.test("a look-up that fails inside the node answers 500 internal_error without a stack trace", async () => {
  const node = await startNode({ demo: true });
  try {
    node.serving.node.db.close();
    const res = await fetch(`${node.url}/v1/files/${EICAR.md5}`);
    const text = await res.text();
    assert.equal(res.status, 500, text);
    assert.deepEqual(JSON.parse(text), {
      error: { code: "internal_error", message: "Internal error; the node's log has details" },
    });
    assert.match(res.headers.get("content-type") ?? "", /^application\/json(;|$)/);
    assert.doesNotMatch(text, /\bat \S/);
    assert.doesNotMatch(text, /file:|\.ts|statement|database/i);
    const logged = node.logLines.filter((line) => line.includes(" ERROR "));
    assert.equal(logged.length, 1, node.logLines.join("\n"));
    assert.ok(logged[0].includes(`Unhandled error on GET /v1/files/${EICAR.md5}`), logged[0]);
    assert.match(logged[0], /\n\s+at /, "the log keeps the stack");
  } finally {
    await stopAfterClosingDatabase(node);
  }
});

Deno.test("a batch look-up that fails inside the node answers 500 internal_error", async () => {
  const node = await startNode({ demo: true });
  try {
    node.serving.node.db.close();
    const res = await fetch(`${node.url}/v1/lookup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [{ type: "domain", value: "malware-c2.example" }] }),
    });
    const message = await assertErrorResponse(res, 500, "internal_error");
    assert.equal(message, "Internal error; the node's log has details");
    assert.ok(
      node.logLines.some((line) => line.includes("Unhandled error on POST /v1/lookup")),
      node.logLines.join("\n"),
    );
  } finally {
    await stopAfterClosingDatabase(node);
  }
});
