/** `POST /v1/samples`: who may submit, what is checked, what ends up on disk. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sampleExtension } from "../../src/samples/samples.ts";
import { assertError, assertUnauthorized, bearer } from "../licences/_licences.ts";
import { sha256Hex } from "./_forward.ts";
import { bytesOf, filesUnder, request, sampleNode, upload } from "./_samples.ts";

const EICAR = new TextEncoder().encode(
  "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
);

Deno.test("POST /v1/samples stores new bytes with 201 and answers the same bytes again 200 duplicate", async () => {
  await using ctx = await sampleNode();
  const sha256 = await sha256Hex(EICAR);
  const first = await upload(ctx.node, ctx.key, EICAR);
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.deepEqual(first.body, { sha256, duplicate: false });

  const second = await upload(ctx.node, ctx.key, EICAR, { "x-sample-sha256": sha256 });
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.deepEqual(second.body, { sha256, duplicate: true });

  const quarantine = join(ctx.node.dataDir, "quarantine");
  assert.deepEqual(await filesUnder(quarantine), [
    `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`,
  ]);
  const rows = ctx.node.serving.node.db.prepare("SELECT count(*) AS n FROM sample").get();
  assert.equal(Number((rows as { n: number }).n), 1);
});

Deno.test("a quarantined sample is an owner-only (0600) file holding exactly the uploaded bytes", async () => {
  await using ctx = await sampleNode();
  const bytes = bytesOf(70_000);
  const res = await upload(ctx.node, ctx.key, bytes);
  assert.equal(res.status, 201);
  const sha256: string = res.body.sha256;
  const path = join(ctx.node.dataDir, "quarantine", sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.deepEqual(await Deno.readFile(path), bytes);
  assert.equal(sha256, await sha256Hex(bytes));
});

Deno.test("bytes that do not hash to X-Sample-Sha256 are refused with 400 sample_hash_mismatch and not kept", async () => {
  await using ctx = await sampleNode();
  const claimed = "0".repeat(64);
  const res = await upload(ctx.node, ctx.key, EICAR, { "x-sample-sha256": claimed });
  const message = assertError(res, 400, "sample_hash_mismatch");
  assert.match(message, new RegExp(`hash to "${await sha256Hex(EICAR)}", not to .*"${claimed}"`));
  assert.deepEqual(await filesUnder(join(ctx.node.dataDir, "quarantine")), []);

  const upper = (await sha256Hex(EICAR)).toUpperCase();
  const matching = await upload(ctx.node, ctx.key, EICAR, { "x-sample-sha256": upper });
  assert.equal(matching.status, 201, "the claimed hash may be upper case");
});

Deno.test("a sample over stats.maxSampleBytes is refused with 413 from its Content-Length, before its body is read", async () => {
  await using ctx = await sampleNode({ config: { stats: { maxSampleBytes: 1024 } } });
  assert.equal(
    (await upload(ctx.node, ctx.key, bytesOf(1024))).status,
    201,
    "the limit itself fits",
  );
  // Only the headers are sent: an answer proves the node did not wait for the body.
  const url = new URL(ctx.node.url);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    await conn.write(new TextEncoder().encode(
      `POST /v1/samples HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${ctx.key}\r\n` +
        "Content-Type: application/octet-stream\r\nContent-Length: 1025\r\n\r\n",
    ));
    const buffer = new Uint8Array(4096);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buffer),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("the node waited for the body")), 5000);
      }),
    ]).finally(() => clearTimeout(timer));
    const answer = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"code":"sample_too_large"/);
  } finally {
    conn.close();
  }
  assert.equal((await filesUnder(join(ctx.node.dataDir, "quarantine"))).length, 1);
});

Deno.test("a chunked sample is refused with 413 once its streamed size passes stats.maxSampleBytes", async () => {
  await using ctx = await sampleNode({ config: { stats: { maxSampleBytes: 1024 } } });
  const chunks = [bytesOf(600), bytesOf(600, 3)];
  const res = await upload(ctx.node, ctx.key, ReadableStream.from(chunks));
  assertError(res, 413, "sample_too_large");
  assert.deepEqual(
    await filesUnder(join(ctx.node.dataDir, "quarantine")),
    [],
    "no temporary file is left",
  );
});

for (const mode of ["without-statistics", "save-statistics-to-file"] as const) {
  Deno.test(`a client in participation mode ${mode} is refused with 403 samples_not_enabled`, async () => {
    await using ctx = await sampleNode({ mode });
    const res = await upload(ctx.node, ctx.key, EICAR);
    assert.match(assertError(res, 403, "samples_not_enabled"), /"with-statistics"/);
    assert.deepEqual(await filesUnder(join(ctx.node.dataDir, "quarantine")), []);
  });
}

Deno.test("POST /v1/samples without a licence key is refused with 401, even with auth.required off", async () => {
  await using ctx = await sampleNode({ config: { auth: { required: false } } });
  const res = await request(ctx.node, "/v1/samples", {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: EICAR,
  });
  assertUnauthorized(res, "license_missing");
});

Deno.test("X-Sample-Name is reduced to its extension: no path or name is recorded", async () => {
  await using ctx = await sampleNode();
  const res = await upload(ctx.node, ctx.key, EICAR, {
    "x-sample-name": "C:\\Users\\alice\\Secret Plans\\quarterly report.PDF",
    "x-detection": "EICAR-Test-File",
  });
  assert.equal(res.status, 201);
  const row = ctx.node.serving.node.db.prepare("SELECT meta, licence_id FROM sample").get() as {
    meta: string;
  };
  assert.deepEqual(JSON.parse(row.meta), { extension: "pdf", detection: "EICAR-Test-File" });
});

Deno.test("file names reduce to a short alphanumeric extension or to none", () => {
  const table: [string | null, string | null][] = [
    ["invoice.exe", "exe"],
    ["/tmp/x/archive.TAR.GZ", "gz"],
    ["..\\..\\boot.ini", "ini"],
    [".bashrc", "bashrc"],
    ["README", null],
    ["trailing.", null],
    ["dir.d/noext", null],
    ["weird.ex e", null],
    ["long.abcdefghijklmnopq", null],
    ["", null],
    [null, null],
  ];
  for (const [name, extension] of table) {
    assert.equal(sampleExtension(name), extension, String(name));
  }
});

Deno.test("no route serves a sample back: GET /v1/samples/{sha256} is 404 and GET /v1/samples 405", async () => {
  await using ctx = await sampleNode();
  const sha256 = (await upload(ctx.node, ctx.key, EICAR)).body.sha256;
  const one = await request(ctx.node, `/v1/samples/${sha256}`, { headers: bearer(ctx.key) });
  assertError(one, 404, "not_found");
  const list = await request(ctx.node, "/v1/samples", { headers: bearer(ctx.key) });
  assertError(list, 405, "method_not_allowed");
  assert.equal(list.headers.get("allow"), "POST");
});

Deno.test("POST /v1/samples refuses other content types with 415 and bad metadata headers with 400", async () => {
  await using ctx = await sampleNode();
  const json = await upload(ctx.node, ctx.key, EICAR, { "content-type": "application/json" });
  assertError(json, 415, "unsupported_media_type");
  const badHash = await upload(ctx.node, ctx.key, EICAR, { "x-sample-sha256": "abc" });
  assert.match(assertError(badHash, 400, "invalid_header"), /"X-Sample-Sha256": expected 64 hex/);
  const badDetection = await upload(ctx.node, ctx.key, EICAR, { "x-detection": "a".repeat(300) });
  assert.match(assertError(badDetection, 400, "invalid_header"), /"X-Detection"/);
  const empty = await upload(ctx.node, ctx.key, new Uint8Array());
  assertError(empty, 400, "sample_empty");
});
