/** Plumbing for the HTTP tests: nodes with extra records, requests, and the error shape. */
import assert from "node:assert/strict";
import type { ConfigLayer } from "../../src/core/config.ts";
import { importRecords } from "../../src/feeds/mod.ts";
import { type Origin, ORIGIN_LOCAL, ORIGIN_MIRROR } from "../../src/store/entries.ts";
import { readLines } from "../../src/core/lines.ts";
import { startTestNode, type TestNode } from "../_helpers.ts";

/** EICAR test file hashes, as the demo data set lists them. */
export const EICAR = {
  md5: "44d88612fea8a8f36de82e1278abb02f",
  sha1: "3395856ce81f2b7382dee72602f798b642f14140",
  sha256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
} as const;

/** A status and parsed JSON body. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Options for {@link startNode}. */
export interface NodeOptions {
  demo?: boolean;
  config?: ConfigLayer;
  /** Records imported into the mirror before the test talks to the node. */
  mirror?: unknown[];
  /** Records imported as local overrides. */
  local?: unknown[];
}

/**
 * Starts a node and imports extra records in-process. The background reload timer is
 * slowed to an hour unless the config says otherwise, so that it never races the
 * explicit index rebuild that follows an import.
 */
export async function startNode(options: NodeOptions = {}): Promise<TestNode> {
  const node = await startTestNode({
    demo: options.demo ?? false,
    config: {
      ...options.config,
      store: { reloadCheckSeconds: 3600, ...options.config?.store },
    },
  });
  try {
    if (options.mirror?.length) await importInto(node, options.mirror, ORIGIN_MIRROR);
    if (options.local?.length) await importInto(node, options.local, ORIGIN_LOCAL);
  } catch (err) {
    await node[Symbol.asyncDispose]();
    throw err;
  }
  return node;
}

/** Imports NDJSON records into the running node's database and rebuilds its index. */
export async function importInto(
  node: TestNode,
  records: unknown[],
  origin: Origin,
): Promise<void> {
  const bytes = new TextEncoder().encode(records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const report = await importRecords(
    node.serving.node.db,
    readLines(ReadableStream.from([bytes])),
    {
      format: "ndjson",
      origin,
      source: "test",
    },
  );
  assert.ok(report.committed, `import failed: ${JSON.stringify(report.errors)}`);
  await node.serving.node.refreshIndex();
}

/** Stops a node whose database a test closed under it, and removes its data folder. */
export async function stopAfterClosingDatabase(node: TestNode): Promise<void> {
  // Closing the already-closed database in stop() may throw; the server is down by then.
  await node.serving.stop().catch(() => {});
  await Deno.remove(node.dataDir, { recursive: true }).catch(() => {});
}

/** GETs `path` and parses the JSON body. */
export async function getJson(node: TestNode, path: string): Promise<JsonResponse> {
  const res = await fetch(node.url + path);
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
}

/** POSTs `body` as JSON to `/v1/lookup` and parses the JSON answer. */
export async function postLookup(node: TestNode, body: unknown): Promise<JsonResponse> {
  return await send(node, "/v1/lookup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Sends a request and parses the JSON body. */
export async function send(node: TestNode, path: string, init: RequestInit): Promise<JsonResponse> {
  const res = await fetch(node.url + path, init);
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
}

/** GETs `/v1/urls` for `url`, percent-encoding it. */
export async function getUrl(node: TestNode, url: string): Promise<JsonResponse> {
  return await getJson(node, `/v1/urls?url=${encodeURIComponent(url)}`);
}

/**
 * Asserts an error response: `status`, a JSON content type and a body of exactly
 * `{"error":{"code","message"}}` with `code`. Returns the message.
 */
export async function assertErrorResponse(
  res: Response,
  status: number,
  code: string,
): Promise<string> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assertJsonType(res.headers);
  const body = JSON.parse(text);
  assertErrorBody(body, code);
  return body.error.message;
}

/** Asserts a parsed body is exactly `{"error":{"code","message"}}` with `code`. */
// deno-lint-ignore no-explicit-any
export function assertErrorBody(body: any, code: string): void {
  assert.deepEqual(Object.keys(body), ["error"], JSON.stringify(body));
  assert.deepEqual(Object.keys(body.error), ["code", "message"], JSON.stringify(body));
  assert.equal(body.error.code, code, JSON.stringify(body));
  assert.equal(typeof body.error.message, "string");
  assert.notEqual(body.error.message, "");
}

/** Asserts a response's content type is JSON. */
export function assertJsonType(headers: Headers): void {
  const type = headers.get("content-type") ?? "";
  assert.match(type, /^application\/json(;|$)/, `content type ${JSON.stringify(type)}`);
}

/** The answer for an object no record lists. */
export function unknownResult(
  type: string,
  value: string,
  ttl: number,
): Record<string, unknown> {
  return { type, value, verdict: "unknown", ttl, source: "none", via: "none" };
}
