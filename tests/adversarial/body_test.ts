/**
 * Issue 9: a compressed request body is refused with its own error, naming the
 * encoding, on every route that reads a body; it is never misread as the bytes
 * it would decompress to.
 */
import assert from "node:assert/strict";
import { assertError, bearer, request } from "../licences/_licences.ts";
import {
  DAY1,
  dayRecords,
  postStats,
  record,
  startStatsNode,
  statsClient,
} from "../stats/_stats.ts";

async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = ReadableStream.from([new TextEncoder().encode(text)])
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("POST /v1/stats with Content-Encoding gzip answers 415 unsupported_content_encoding naming it", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const res = await request(node, "/v1/stats", {
    method: "POST",
    headers: { ...bearer(key), "content-type": "application/json", "content-encoding": "gzip" },
    body: await gzip(JSON.stringify([record()])),
  });
  const message = assertError(res, 415, "unsupported_content_encoding");
  assert.equal(message, 'Unsupported content encoding "gzip": send the body uncompressed');
  assert.deepEqual(await dayRecords(node.dataDir, DAY1), []);
});

Deno.test("every route that reads a body refuses a compressed one with 415 and takes identity", async () => {
  await using node = await startStatsNode();
  const key = await statsClient(node);
  const routes: [string, string, string][] = [
    ["/v1/stats", "application/json", JSON.stringify([record()])],
    [
      "/v1/lookup",
      "application/json",
      JSON.stringify({ items: [{ type: "domain", value: "a.b" }] }),
    ],
    ["/v1/participation", "application/json", JSON.stringify({ mode: "with-statistics" })],
    ["/v1/samples", "application/octet-stream", "MZ sample bytes"],
  ];
  for (const [path, type, body] of routes) {
    for (const encoding of ["gzip", "br", "deflate", "identity, gzip", "x-custom"]) {
      const res = await request(node, path, {
        method: "POST",
        headers: { ...bearer(key), "content-type": type, "content-encoding": encoding },
        body: await gzip(body),
      });
      const message = assertError(res, 415, "unsupported_content_encoding");
      assert.ok(
        message.includes(JSON.stringify(encoding)),
        `${path} names ${encoding}: ${message}`,
      );
    }
  }
  const identity = await postStats(node, key, [record()], {
    headers: { "content-encoding": "identity" },
  });
  assert.equal(identity.status, 202, JSON.stringify(identity.body));
  assert.equal((await dayRecords(node.dataDir, DAY1)).length, 1);
});
